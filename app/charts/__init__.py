"""Charts of simulation results, painted by one QPainter code on screen, to PNG, SVG and PDF.

`data` turns a `SimulationResult` into chart series (no Qt); `painting` paints a series into a
rectangle of any QPainter; `widget` shows one on screen and `files` writes PNG and SVG.
"""

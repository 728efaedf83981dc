"""Sizes of steps on the canvas, shared by the canvas, auto-layout and image exports.

Positions in a scenario are a step's top-left corner; a flow step is a card with a header,
a summary line and one row per exit, so its height grows with its exits.
"""

from __future__ import annotations

from app.engine.model import Node

NODE_WIDTH = 220.0
HEADER_HEIGHT = 30.0
SUMMARY_HEIGHT = 22.0
PORT_ROW_HEIGHT = 20.0
BOTTOM_PADDING = 8.0
NOTE_SIZE = (220.0, 120.0)


def node_size(node: Node) -> tuple[float, float]:
    if node.type == "group":
        return (_number(node.params.get("width"), 600.0), _number(node.params.get("height"), 400.0))
    if node.type == "note":
        return NOTE_SIZE
    return (NODE_WIDTH, card_height(len(node.exits)))


def card_height(exit_count: int) -> float:
    """A card's height: header, summary line, one row per exit (at least one row)."""
    return HEADER_HEIGHT + SUMMARY_HEIGHT + max(1, exit_count) * PORT_ROW_HEIGHT + BOTTOM_PADDING


def input_port_offset() -> tuple[float, float]:
    return (0.0, HEADER_HEIGHT / 2)


def _number(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default

"""Pause Python's cycle collector around bulk work that makes many objects and no garbage cycles.

Validating or drawing a large funnel allocates tens of thousands of objects; each burst sets
off collections that scan the whole heap (the scenario, the caches, Qt's wrappers) for cycles
that are not there. Measured at 10,000 steps: validation 855 → 450 ms. Cycles made meanwhile,
if any, are collected once the collector resumes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

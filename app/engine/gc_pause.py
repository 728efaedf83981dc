"""Pause Python's cycle collector around bulk work that makes many objects and no garbage cycles.

Validating or drawing a large funnel allocates tens of thousands of objects; each burst sets
off collections that scan the whole heap (the scenario, the caches, Qt's wrappers) for cycles
that are not there. Measured at 10,000 steps: validation 855 → 450 ms. Cycles made meanwhile,
if any, are collected once the collector resumes.

Pauses nest and may overlap across threads: the collector resumes when the last pause ends,
and only if it was running when the first began. The editor also pauses it while a background
thread works, because a collection started on that thread would free the GUI's unreachable Qt
objects there, away from the thread that owns them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


def pause_cycle_collector() -> None:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1


def resume_cycle_collector() -> None:
    global _depth
    with _lock:
        if _depth == 0:
            raise RuntimeError("resume_cycle_collector without a matching pause")
        _depth -= 1
        if _depth == 0 and _was_enabled:
            gc.enable()


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    pause_cycle_collector()
    try:
        yield
    finally:
        resume_cycle_collector()

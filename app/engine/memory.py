"""Keep freed memory for reuse while simulations run (glibc; elsewhere this does nothing).

Every step of a simulation makes and drops arrays of several megabytes. By default glibc's
malloc hands such memory back to the kernel soon after it is freed (it trims the top of the
heap once more than a few tens of megabytes are free there), so the next step's arrays come
back as fresh pages that the kernel must map and zero and that are cold in the CPU cache.
At a million contacts that cost about a fifth of a run (docs/PERFORMANCE.md). During a run
the trim threshold is raised so freed memory stays in the heap and is reused. Afterwards up
to TRIM_AFTER_RUN of free heap is kept, so running again (the editor's re-run after a tweak)
does not fault its memory in afresh; beyond that glibc trims as usual. Arrays above 32 MiB
are still mapped and unmapped on their own, as glibc's dynamic tuning would do at most.

Runs may nest or overlap across threads (the editor simulates in a worker thread): the
threshold is lowered when the last run ends.
"""

from __future__ import annotations

import ctypes
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest dynamic value (DEFAULT_MMAP_THRESHOLD_MAX)
TRIM_DURING_RUN = 2**30
TRIM_AFTER_RUN = 256 * 2**20  # free heap kept between runs (a run of 1M contacts: ~150 MB)

_lock = threading.Lock()
_depth = 0


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    libc = ctypes.CDLL(None)
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


@contextmanager
def freed_memory_reused() -> Iterator[None]:
    """Inside: large freed blocks stay in the process for the next allocation."""
    global _depth
    if _LIBC is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _LIBC.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            _LIBC.mallopt(_M_TRIM_THRESHOLD, TRIM_DURING_RUN)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _LIBC.mallopt(_M_TRIM_THRESHOLD, TRIM_AFTER_RUN)

"""While a simulation runs, freed arrays stay in the process and are reused, not faulted in
again (app/engine/memory.py): measured with the kernel's count of minor page faults."""

from __future__ import annotations

import resource

import numpy as np
import pytest

from app.engine import memory

pytestmark = pytest.mark.skipif(memory._LIBC is None, reason="needs glibc's mallopt")


def _faults_of_a_fresh_array(megabytes: int) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    array = np.ones(megabytes * 2**20 // 8)
    del array
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_a_freed_array_is_reused_inside_a_run_and_nesting_is_counted():
    with memory.freed_memory_reused():
        with memory.freed_memory_reused():
            _faults_of_a_fresh_array(24)
            assert _faults_of_a_fresh_array(24) < 64  # fresh, 24 MiB take hundreds of faults
        assert memory._depth == 1
        assert _faults_of_a_fresh_array(24) < 64
    assert memory._depth == 0

"""The integer shortcuts of `randomness` decide exactly as the floats the runtime draws."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine import randomness as rnd

KEYS = rnd.walk_keys(np.arange(5000), 12345)
TIMES = np.arange(5000, dtype=np.int32) * 977


def _bits_and_floats(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x = rnd.bits(seed, KEYS, 99, TIMES, rnd.DELIVER)
    u = rnd.uniform(seed, KEYS, 99, TIMES.astype(np.int64), rnd.DELIVER)
    high, low = rnd.uniform_pair(seed, KEYS, 99, TIMES, rnd.DELIVER)
    return x, u, high, low


def _edges(values: np.ndarray) -> list[float]:
    """Probabilities on, just below and just above drawn values: where a rounding slip shows."""
    picked = values[:50]
    return [*picked, *np.nextafter(picked, 0.0), *np.nextafter(picked, 1.0), 0.0, 1.0, 5e-324]


@settings(max_examples=30)
@given(seed=st.integers(0, 2**63))
def test_below_is_uniform_less_than_p(seed):
    x, u, _, _ = _bits_and_floats(seed)
    for p in [*_edges(u), 0.5, 0.98, 1e-9, 1 - 2**-53]:
        assert np.array_equal(rnd.below(x, p), u < p), p


@settings(max_examples=30)
@given(seed=st.integers(0, 2**63))
def test_high_thresholds_match_the_first_float_of_a_pair(seed):
    x, _, high, low = _bits_and_floats(seed)
    probabilities = np.array([*_edges(high), 0.5, 1 - 2**-40, np.nan, -0.5])
    thresholds = rnd.high_thresholds(probabilities)
    for p, threshold in zip(probabilities, thresholds, strict=True):
        assert np.array_equal(rnd.below_high(x, threshold), high < p), p
    per_walk = rnd.high_thresholds(np.resize(probabilities, len(x)))
    assert np.array_equal(rnd.below_high(x, per_walk), high < np.resize(probabilities, len(x)))
    assert np.array_equal(rnd.low_unit(x), low)


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**63),
    weights=st.lists(st.integers(1, 100), min_size=2, max_size=6),
)
def test_split_points_choose_the_variant_searchsorted_chooses(seed, weights):
    x, u, _, _ = _bits_and_floats(seed)
    bounds = np.cumsum(np.array(weights, dtype=float)) / sum(weights)
    expected = np.minimum(np.searchsorted(bounds, u, side="right"), len(weights) - 1)
    points = rnd.split_points(bounds)[:-1]
    assert np.array_equal(np.searchsorted(points, x >> np.uint64(11), side="right"), expected)
    # A draw exactly on a bound belongs to the next variant, as in searchsorted.
    for value, drawn in zip(u[:5], x[:5], strict=True):
        points = rnd.split_points(np.array([value, 1.0]))[:-1]
        assert np.searchsorted(points, drawn >> np.uint64(11), side="right") == 1


def test_bits_gather_keys_in_blocks_like_a_plain_gather():
    walks = np.random.default_rng(3).integers(0, len(KEYS), 40_000)
    times = np.arange(40_000, dtype=np.int32)
    gathered = rnd.bits(7, KEYS, 5, times, rnd.HAPPEN, walks=walks)
    assert np.array_equal(gathered, rnd.bits(7, KEYS[walks], 5, times.astype(np.int64), 3))
    assert np.array_equal(rnd.bits(7, KEYS[:1], 5, -1, 1), rnd.bits(7, KEYS[:1], 5, [-1], 1))

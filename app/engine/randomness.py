"""Counter-based randomness shared by the vectorised simulation and the per-contact runtime.

Every draw is a pure function of (seed, walk key, node, arrival time, purpose), hashed with
splitmix64, so a contact gets the same numbers whether it is processed alone or inside a batch
of a million, in any order. That is what lets the runtime serve as an exact oracle.

The simulation decides "u < p" on the hash bits themselves (`below`, `below_high`, `split_points`):
comparing integers against a precomputed threshold is exactly the same test as comparing the
float the runtime draws, without building a float array per step.
"""

from __future__ import annotations

import functools
import hashlib
import math

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK = 0xFFFFFFFFFFFFFFFF
_TIME_FACTOR = np.uint64(0xD1B54A32D192ED03)  # odd: distinct times give distinct products
_UNIT = 2.0**-53
_UNIT32 = 2.0**-32
_LOW32 = np.uint64(0xFFFFFFFF)
BLOCK = 16_384  # elements per pass: one block's arrays stay in a core's L2 cache

# What a draw is for; distinct purposes at one step give independent numbers.
ENTRY = 1
DELIVER = 2
HAPPEN = 3
SPLIT = 4
NOTIFY = 5


def mix(x: np.ndarray, *, inplace: bool = False, block: int = BLOCK) -> np.ndarray:
    """splitmix64's finaliser on a 1-D uint64 array (wrapping arithmetic)."""
    z = x if inplace else x.copy()
    scratch = np.empty(min(len(z), block), dtype=np.uint64)
    for low in range(0, len(z), block):
        _finalise(z[low : low + block], scratch)
    return z


def _finalise(z: np.ndarray, scratch: np.ndarray) -> None:
    """splitmix64's finaliser in place on one block, shifting into `scratch`."""
    scratch = scratch[: len(z)]
    with np.errstate(over="ignore"):
        z += _GOLDEN
        np.right_shift(z, np.uint64(30), out=scratch)
        z ^= scratch
        z *= _M1
        np.right_shift(z, np.uint64(27), out=scratch)
        z ^= scratch
        z *= _M2
        np.right_shift(z, np.uint64(31), out=scratch)
        z ^= scratch


def name_key(name: str) -> int:
    """A stable 64-bit key for a node id, so renaming one node leaves the others' draws alone."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def walk_keys(contacts: np.ndarray, entry_key: int, block: int = BLOCK) -> np.ndarray:
    """One key per (contact index, entry node): the identity of a walk."""
    return mix(np.asarray(contacts, dtype=np.uint64) ^ np.uint64(entry_key), block=block)


@functools.lru_cache(maxsize=4096)
def _salt(seed: int, node_key: int, purpose: int) -> np.uint64:
    salt = mix(np.array([seed & _MASK, node_key & _MASK, purpose], dtype=np.uint64))
    return salt[0] ^ mix(salt[1:2] ^ salt[2])[0]


def bits(
    seed: int,
    keys: np.ndarray,
    node_key: int,
    times: np.ndarray | int,
    purpose: int,
    *,
    walks: np.ndarray | None = None,
    block: int = BLOCK,
) -> np.ndarray:
    """64 random bits per key (per `keys[walks]` when `walks` is given).

    Walk keys are hashed already, so one splitmix64 round over key, salt and time suffices.
    Times may be any integer dtype: their values are what count. The work runs block by
    block, so the temporaries stay in the CPU cache instead of streaming through memory;
    threads working at once want larger blocks (`block`), as each numpy call hands the GIL
    over and back.
    """
    count = len(keys) if walks is None else len(walks)
    out = np.empty(count, dtype=np.uint64)
    scratch = np.empty(min(count, block), dtype=np.uint64)
    salt = _salt(seed, node_key, purpose)
    times = np.asarray(times)
    with np.errstate(over="ignore"):
        if times.ndim == 0:
            out.fill(times.astype(np.uint64) * _TIME_FACTOR)
        for low in range(0, count, block):
            high = low + block
            z = out[low:high]
            part = scratch[: len(z)]
            if times.ndim:
                z[...] = times[low:high]
                z *= _TIME_FACTOR
            if walks is None:
                part[...] = keys[low:high]
            else:
                np.take(keys, walks[low:high], out=part, mode="clip")
            z ^= part
            z ^= salt
            _finalise(z, part)
    return out


def uniform(
    seed: int,
    keys: np.ndarray,
    node_key: int,
    times: np.ndarray | int,
    purpose: int,
    block: int = BLOCK,
) -> np.ndarray:
    """Floats in [0, 1), one per walk key, determined by the arguments alone.

    `times` is when the walk arrived at the node: a walk meets a node at most once at a
    given moment (a cycle without time passing is refused), so it tells visits apart.
    """
    x = bits(seed, keys, node_key, times, purpose, block=block)
    x >>= np.uint64(11)
    u = x.astype(np.float64)
    u *= _UNIT
    return u


def uniform_pair(
    seed: int, keys: np.ndarray, node_key: int, times: np.ndarray | int, purpose: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two independent floats in [0, 1) per key from one hash (32 bits each): whether and
    when, for steps that need both, at half the cost of two draws."""
    x = bits(seed, keys, node_key, times, purpose)
    return (x >> np.uint64(32)).astype(np.float64) * _UNIT32, low_unit(x)


def low_unit(x: np.ndarray) -> np.ndarray:
    """The second float of `uniform_pair` from its bits."""
    return (x & _LOW32).astype(np.float64) * _UNIT32


def below(x: np.ndarray, p: float) -> np.ndarray:
    """Where `uniform` < p, given the bits `x` of those draws.

    uniform = (x >> 11)·2⁻⁵³ exactly, so u < p ⇔ (x >> 11) < ⌈p·2⁵³⌉ ⇔ x < ⌈p·2⁵³⌉·2¹¹
    (p·2⁵³ is exact: scaling by a power of two). One integer comparison, no floats.
    """
    if not p > 0:
        return np.zeros(x.shape, dtype=bool)
    if p >= 1:
        return np.ones(x.shape, dtype=bool)
    return x < np.uint64(math.ceil(p * 2.0**53) << 11)


def split_points(bounds: np.ndarray) -> np.ndarray:
    """Cumulative split bounds in [0, 1] as 53-bit integers: bounds[j] ≤ u ⇔ points[j] ≤ x >> 11."""
    return np.ceil(np.clip(bounds, 0.0, 1.0) * 2.0**53).astype(np.uint64)


def high_thresholds(p: np.ndarray | float) -> np.ndarray:
    """Per probability, how many values of the 32 high bits fall below it: the first float of
    `uniform_pair` is < p exactly where (x >> 32) < this (⌈p·2³²⌉; 0 for p ≤ 0 or NaN)."""
    p = np.asarray(p, dtype=np.float64)
    scaled = np.where(p > 0, np.minimum(p, 1.0), 0.0) * 2.0**32
    return np.ceil(scaled).astype(np.uint64)


def below_high(x: np.ndarray, thresholds: np.ndarray | np.uint64) -> np.ndarray:
    """Where the first float of `uniform_pair` is below the probability `thresholds` stands for."""
    return (x >> np.uint64(32)) < thresholds


def replication_seed(seed: int, replication: int) -> int:
    """Replication 0 keeps the seed, so one run equals the first of K replications."""
    if replication == 0:
        return seed
    value = np.array([(seed ^ (replication << 32)) & _MASK], dtype=np.uint64)
    return int(mix(value)[0])

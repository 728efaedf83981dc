"""Counter-based randomness shared by the vectorised simulation and the per-contact runtime.

Every draw is a pure function of (seed, walk key, node, arrival time, purpose), hashed with
splitmix64, so a contact gets the same numbers whether it is processed alone or inside a batch
of a million, in any order. That is what lets the runtime serve as an exact oracle.
"""

from __future__ import annotations

import hashlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK = 0xFFFFFFFFFFFFFFFF
_TIME_FACTOR = np.uint64(0xD1B54A32D192ED03)  # odd: distinct times give distinct products
_UNIT = 2.0**-53
_UNIT32 = 2.0**-32

# What a draw is for; distinct purposes at one step give independent numbers.
ENTRY = 1
DELIVER = 2
HAPPEN = 3
SPLIT = 4
NOTIFY = 5


def mix(x: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """splitmix64's finaliser on a uint64 array (wrapping arithmetic)."""
    z = x if inplace else x.copy()
    with np.errstate(over="ignore"):
        z += _GOLDEN
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return z


def name_key(name: str) -> int:
    """A stable 64-bit key for a node id, so renaming one node leaves the others' draws alone."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def walk_keys(contacts: np.ndarray, entry_key: int) -> np.ndarray:
    """One key per (contact index, entry node): the identity of a walk."""
    return mix(np.asarray(contacts, dtype=np.uint64) ^ np.uint64(entry_key))


def _hash(
    seed: int, keys: np.ndarray, node_key: int, times: np.ndarray | int, purpose: int
) -> np.ndarray:
    """64 random bits per key. Walk keys are hashed already, so one splitmix64 round over key,
    salt and time suffices."""
    salt = mix(np.array([seed & _MASK, node_key & _MASK, purpose], dtype=np.uint64))
    salt = salt[0] ^ mix(salt[1:2] ^ salt[2])[0]
    with np.errstate(over="ignore"):
        x = np.asarray(times).astype(np.uint64) * _TIME_FACTOR
        x ^= keys
        x ^= salt
        return mix(x, inplace=True)


def uniform(
    seed: int, keys: np.ndarray, node_key: int, times: np.ndarray | int, purpose: int
) -> np.ndarray:
    """Floats in [0, 1), one per walk key, determined by the arguments alone.

    `times` is when the walk arrived at the node: a walk meets a node at most once at a
    given moment (a cycle without time passing is refused), so it tells visits apart.
    """
    x = _hash(seed, keys, node_key, times, purpose)
    x >>= np.uint64(11)
    return x.astype(np.float64) * _UNIT


def uniform_pair(
    seed: int, keys: np.ndarray, node_key: int, times: np.ndarray | int, purpose: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two independent floats in [0, 1) per key from one hash (32 bits each): whether and
    when, for steps that need both, at half the cost of two draws."""
    x = _hash(seed, keys, node_key, times, purpose)
    high = (x >> np.uint64(32)).astype(np.float64) * _UNIT32
    low = (x & np.uint64(0xFFFFFFFF)).astype(np.float64) * _UNIT32
    return high, low


def replication_seed(seed: int, replication: int) -> int:
    """Replication 0 keeps the seed, so one run equals the first of K replications."""
    if replication == 0:
        return seed
    value = np.array([(seed ^ (replication << 32)) & _MASK], dtype=np.uint64)
    return int(mix(value)[0])

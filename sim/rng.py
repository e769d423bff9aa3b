"""Counter-based random streams: every number a pure function of its coordinates.

A random number here is ``hash(seed, replicate, day, actor, purpose)`` mapped to [0, 1). There
is no generator state to carry, so

* replicate k gets bit-identical numbers whether it runs alone, among 10,000 others, in another
  process or on a Dask worker;
* one replicate can be replayed by itself;
* two scenarios run with the same seed share their random numbers (common random numbers).

The hash is SplitMix64's finaliser (Steele, Lea & Flood 2014, "Fast splittable pseudorandom
number generators"), applied twice: once to fold the scalar coordinates (seed, day, actor,
purpose) into a key, once to combine the key with each replicate's own hash. Purposes are short
strings hashed with BLAKE2 (Python's ``hash()`` is salted per process and would break
reproducibility).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

from sim import kernels

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK = (1 << 64) - 1
_TO_UNIT = 1.0 / (1 << 53)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _mix_int(x: int) -> int:
    """SplitMix64 finaliser on a Python int (for scalar coordinates)."""
    x &= _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


@lru_cache(maxsize=4096)
def purpose_code(purpose: str) -> int:
    """A stable 64-bit code for a purpose name (the same in every process and Python version)."""
    return int.from_bytes(hashlib.blake2b(purpose.encode(), digest_size=8).digest(), "little")


def _key(seed: int, day: int, actor: int, purpose: str) -> int:
    k = _mix_int(seed + 0x9E3779B97F4A7C15)
    for part in (day, actor, purpose_code(purpose)):
        k = _mix_int(k ^ (part & _MASK) + 0x9E3779B97F4A7C15)
    return k


class Streams:
    """The random numbers of one run, for a fixed set of replicates.

    Args:
        seed: The run seed (any non-negative integer).
        replicate_ids: The ids of the replicates these streams serve, in array order.
    """

    def __init__(self, seed: int, replicate_ids: np.ndarray):
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = int(seed)
        self.replicate_ids = np.asarray(replicate_ids, dtype=np.int64)
        # Each replicate's own hash is computed once; a draw then costs one mix over the array.
        with np.errstate(over="ignore"):
            self._rep = _mix(self.replicate_ids.astype(np.uint64) * _GOLDEN + _GOLDEN)

    def bits(self, day: int, actor: int, purpose: str) -> np.ndarray:
        """64 random bits per replicate for (day, actor, purpose)."""
        k = np.uint64(_key(self.seed, day, actor, purpose))
        with np.errstate(over="ignore"):
            return _mix(self._rep ^ k)

    def uniform(self, day: int, actor: int, purpose: str) -> np.ndarray:
        """One uniform number in [0, 1) per replicate for (day, actor, purpose)."""
        return kernels.uniform(self._rep, np.uint64(_key(self.seed, day, actor, purpose)), 0.0)

    def open_uniform(self, day: int, actor: int, purpose: str) -> np.ndarray:
        """One uniform number in (0, 1) per replicate: safe for inverse CDFs."""
        return kernels.uniform(self._rep, np.uint64(_key(self.seed, day, actor, purpose)), 0.5)

    def numpy_uniform(self, day: int, actor: int, purpose: str, offset: float = 0.0) -> np.ndarray:
        """:meth:`uniform` (offset 0) or :meth:`open_uniform` (0.5) by numpy (the reference)."""
        return (
            (self.bits(day, actor, purpose) >> np.uint64(11)).astype(np.float64) + offset
        ) * _TO_UNIT

    def normal(self, day: int, actor: int, purpose: str) -> np.ndarray:
        """One standard normal number per replicate (inverse CDF of :meth:`open_uniform`)."""
        from scipy.special import ndtri

        return ndtri(self.open_uniform(day, actor, purpose))

"""Random numbers: named streams per activity and private streams per child.

One root seed. Replication ``r`` draws activity stream ``s`` from
``SeedSequence(root, spawn_key=(r, STREAM_IDS[s]))``. Each child also has a private key, a hash of
(replication key, where the child came from, its index there); its draws are a counter-based hash
(splitmix64) of that key, so a child makes the same choices in every scenario for as long as its
history is the same: common random numbers at the level of the child. Lever effect sizes are drawn
from nested-stratified sequences over the replication index (:func:`stratified_uniform`), one per
(root seed, lever, effect), so that any number of replications spreads each effect over its range.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

#: Append-only: the position of a name fixes its streams; never reorder or reuse.
STREAM_IDS: dict[str, int] = {
    "child_keys": 0,
    "initial_population": 1,
    "identification": 2,
    "move_in": 3,
    "post16_conversion": 4,
    "lever_effects": 5,
    "ap_direct_entry": 6,
    "post16_request": 7,
    "lever_strata": 8,
}

#: Where a child came from, part of its private key.
ORIGIN_INITIAL = 1
ORIGIN_IDENTIFIED = 2
ORIGIN_MOVED_IN = 3
ORIGIN_POST16_CONVERSION = 4
ORIGIN_AP_DIRECT = 5
ORIGIN_POST16_REQUEST = 6

# splitmix64 (the scalar forms in hot loops write these out as literals: keep them in step)
MASK64 = (1 << 64) - 1  # splitmix64 arithmetic is modulo 2**64
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
TO_UNIT = 2.0**-53
# splitmix64's constants as numpy scalars, for uint64 array arithmetic
_U11, _U27, _U30, _U31 = (np.uint64(k) for k in (11, 27, 30, 31))
_U_GOLDEN, _U_MIX1, _U_MIX2 = np.uint64(GOLDEN_GAMMA), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def splitmix64(x: int) -> int:
    """The splitmix64 finaliser: a fast, well-mixed 64-bit hash."""
    z = (x + GOLDEN_GAMMA) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _mix_many(z: np.ndarray) -> np.ndarray:
    """The splitmix64 mixing steps on uint64 arrays (arithmetic wraps modulo 2**64, as ``& MASK64``)."""
    z = (z ^ (z >> _U30)) * _U_MIX1
    z = (z ^ (z >> _U27)) * _U_MIX2
    return z ^ (z >> _U31)


def stream(root_seed: int, replication: int, name: str) -> np.random.Generator:
    """The named activity stream of one replication."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(root_seed, spawn_key=(replication, STREAM_IDS[name]))))


def strata_key(root_seed: int, *names: str) -> int:
    """The 64-bit scramble key of a stratified sequence named by ``names`` (e.g. a lever and one of
    its effects): the same in every replication and every scenario."""
    keys = tuple(zlib.crc32(name.encode("utf-8")) for name in names)
    seq = np.random.SeedSequence(root_seed, spawn_key=(STREAM_IDS["lever_strata"], *keys))
    return int(seq.generate_state(1, dtype=np.uint64)[0])


#: Replication indices a stratified sequence spreads (its generator matrix acts on this many bits).
INDEX_BITS = 32


def stratified_uniform(key: int, index: int, bits: int = 53) -> float:
    """Point ``index`` of a nested-stratified sequence in [0, 1), keyed by ``key``.

    Every first ``2**m`` points hold exactly one point in each of the ``2**m`` equal strata (a
    Latin hypercube in one dimension for each such prefix, nearly so for any other), each point is
    uniform on [0, 1), and where it falls inside its stratum is random.

    Digit ``k`` (from the top) is bit ``k - 1`` of ``index`` (van der Corput's sequence) XOR a
    keyed hash of the index's higher bits (``index >> k``), then flipped by Owen's nested uniform
    scramble: a keyed hash of the tree node the preceding digits reach (``(1 << (k-1)) | prefix``).
    Each digit depends on the index's bits from ``k - 1`` up only, so the first ``m`` digits of the
    first ``2**m`` indices are a bijection: the strata. The hash of the higher bits is what keeps
    two sequences with different keys from moving together: without it (van der Corput or a 1-D
    Sobol' sequence, scrambled or shifted) the first digit of every sequence is the index's last
    bit, so every effect would fall in the upper half of its range in the same replications, or
    in the opposite ones. A point depends on ``key`` and ``index`` only: not on how many points
    are drawn, in what order or where.
    """
    if not 0 <= index < 1 << INDEX_BITS:
        raise ValueError(f"index {index} outside 0 to 2**{INDEX_BITS} - 1")
    mixed = splitmix64(key ^ 0x5EED)  # a second key, for the hash of the higher bits
    value = 0
    prefix = 0
    for k in range(1, bits + 1):
        if k <= INDEX_BITS:
            digit = ((index >> (k - 1)) & 1) ^ (splitmix64(mixed ^ ((k << INDEX_BITS) | (index >> k))) >> 63)
        else:
            digit = 0  # past the index's bits only the scramble places the point within its stratum
        flip = splitmix64(key ^ ((1 << (k - 1)) | prefix)) >> 63
        prefix |= digit << (k - 1)
        value = (value << 1) | (digit ^ flip)
    return value * 2.0**-bits


def replication_key(root_seed: int, replication: int) -> int:
    """The 64-bit key from which every child's private key in a replication derives."""
    seq = np.random.SeedSequence(root_seed, spawn_key=(replication, STREAM_IDS["child_keys"]))
    return int(seq.generate_state(1, dtype=np.uint64)[0])


def child_key(rep_key: int, origin: int, index: int) -> int:
    """Private key of the ``index``-th child from ``origin``."""
    return splitmix64(rep_key ^ splitmix64((origin << 48) ^ index))


def child_keys(rep_key: int, origin: int, indices: np.ndarray) -> np.ndarray:
    """:func:`child_key` for many indices at once (uint64, bit for bit)."""
    inner = _mix_many((np.uint64(origin << 48) ^ np.asarray(indices, dtype=np.uint64)) + _U_GOLDEN)
    return _mix_many((np.uint64(rep_key) ^ inner) + _U_GOLDEN)


def uniforms(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Draw number ``counters`` (1-based) of the children with ``keys``, bit for bit as :meth:`ChildDraws.uniform`.

    The arguments broadcast against each other.
    """
    z = np.asarray(keys, dtype=np.uint64) + np.asarray(counters, dtype=np.uint64) * _U_GOLDEN
    return (_mix_many(z) >> _U11).astype(np.float64) * TO_UNIT


def draw_uniform(key: int, counter: int) -> float:
    """Draw number ``counter`` (1-based) of the child with ``key``, as :meth:`ChildDraws.uniform` makes it."""
    z = (key + counter * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)  # constants written out, as in ChildDraws.uniform
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & ((1 << 64) - 1)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & ((1 << 64) - 1)
    return ((z ^ (z >> 31)) >> 11) * 2.0**-53


class ChildDraws:
    """Counter-based uniform draws for one child; cheap to create (no generator state)."""

    __slots__ = ("key", "n")

    def __init__(self, key: int):
        self.key = key
        self.n = 0

    def uniform(self) -> float:
        """Next uniform in [0, 1)."""
        # splitmix64 with its constants written out (GOLDEN_GAMMA, MASK64, TO_UNIT): the compiler
        # folds them, a third cheaper than looking up globals in the model's commonest call
        n = self.n = self.n + 1
        z = (self.key + n * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & ((1 << 64) - 1)
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & ((1 << 64) - 1)
        return ((z ^ (z >> 31)) >> 11) * 2.0**-53

    def exponential(self) -> float:
        """Next unit-mean exponential."""
        return -math.log(1.0 - self.uniform())


#: The pure Python forms: the reference the compiled ones are tested against, and what runs where
#: the C build of :mod:`hnsim.model._draws` is absent.
PYTHON_DRAW_UNIFORM, PYTHON_UNIFORM = draw_uniform, ChildDraws.uniform
try:
    from hnsim.model import _draws as compiled
except ImportError:  # not built (no C compiler where hnsim was installed): the pure Python forms run
    compiled = None
else:  # the same splitmix64 in uint64 arithmetic: with the hazard draw, a replication about a fifth faster
    draw_uniform = compiled.draw_uniform  # noqa: F811
    ChildDraws.uniform = compiled.uniform

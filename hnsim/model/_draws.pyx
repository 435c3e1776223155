# cython: language_level=3, binding=True, boundscheck=False, wraparound=False, cdivision=True
"""The model's innermost loop in C: a child's counter-based uniform (splitmix64 in uint64
arithmetic) and the earliest of a plan holder's competing hazards.

Bit for bit the pure Python of :mod:`hnsim.model.streams` and :meth:`hnsim.model.plans.PlanStage.draw`,
which stay the reference (``tests/test_compiled_draws.py`` compares them) and run where this module
was not built: the same integer hash, the same ``-log(1 - u) / rate`` with the C library's ``log``
(which Python's ``math.log`` calls), the same comparisons in the same order.
"""

from libc.math cimport log
from libc.stdint cimport uint64_t

cdef double TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53, exact

cdef inline double _uniform(uint64_t key, uint64_t counter) noexcept:
    cdef uint64_t z = key + counter * <uint64_t>0x9E3779B97F4A7C15ULL
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
    return <double>((z ^ (z >> 31)) >> 11) * TO_UNIT


def uniform(self):
    """:meth:`hnsim.model.streams.ChildDraws.uniform`: the next uniform in [0, 1)."""
    counter = self.n + 1
    self.n = counter
    return _uniform(<uint64_t>self.key, <uint64_t>counter)


def draw_uniform(key, counter):
    """:func:`hnsim.model.streams.draw_uniform`: draw number ``counter`` of the child with ``key``."""
    return _uniform(<uint64_t>key, <uint64_t>counter)


_FLAT = None


def set_flat(clock):
    """The shared flat clock, recognised by identity as in the Python loop (exposure is time)."""
    global _FLAT
    _FLAT = clock


def earliest(child, double now, options, double deadline):
    """:meth:`hnsim.model.plans.PlanStage.draw`: the earliest of competing events ``(tag, rate per
    day, clock)`` after ``now``, or ``(deadline, None)``; every option takes the child's next draw."""
    cdef double best_t = deadline, t, exposure, rate
    best_tag = None
    draws = child.draws
    cdef uint64_t key = <uint64_t>draws.key
    cdef uint64_t counter = <uint64_t>draws.n
    for tag, rate, clock in options:
        counter += 1
        exposure = -log(1.0 - _uniform(key, counter)) / rate
        if clock is _FLAT:
            t = now + exposure
        else:
            t = clock.time_after(now, exposure)
        if t < best_t:
            best_t = t
            best_tag = tag
    draws.n = counter
    return best_t, best_tag

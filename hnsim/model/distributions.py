"""Durations drawn by inverse CDF from one uniform, so each draw uses exactly one random number."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Callable

from scipy.special import gammaincinv

from hnsim.config.schema import Distribution

_STANDARD_NORMAL = NormalDist()


def sampler(dist: Distribution) -> Callable[[float], float]:
    """A function mapping a uniform in [0, 1) to a draw from ``dist``."""
    kind = dist.dist
    if kind == "fixed":
        value = float(dist.value)
        return lambda u: value
    if kind == "exponential":
        mean = float(dist.mean)
        return lambda u: -mean * math.log(1.0 - u)
    if kind == "uniform":
        low, span = float(dist.low), float(dist.high - dist.low)
        return lambda u: low + span * u
    if kind == "triangular":
        low, mode, high = float(dist.low), float(dist.mode), float(dist.high)
        if high == low:
            return lambda u: low
        cut = (mode - low) / (high - low)

        def triangular(u: float) -> float:
            if u < cut:
                return low + math.sqrt(u * (high - low) * (mode - low))
            return high - math.sqrt((1.0 - u) * (high - low) * (high - mode))

        return triangular
    if kind == "lognormal":
        mean, sd = float(dist.mean), float(dist.sd)
        if sd == 0:
            return lambda u: mean
        sigma2 = math.log1p((sd / mean) ** 2)
        mu, sigma = math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
        inv = _STANDARD_NORMAL.inv_cdf
        return lambda u: math.exp(mu + sigma * inv(min(max(u, 1e-12), 1 - 1e-12)))
    if kind == "gamma":
        mean, sd = float(dist.mean), float(dist.sd)
        if sd == 0:
            return lambda u: mean
        shape = (mean / sd) ** 2
        scale = mean / shape
        return lambda u: scale * float(gammaincinv(shape, min(max(u, 1e-12), 1 - 1e-12)))
    raise ValueError(f"unknown distribution {kind}")

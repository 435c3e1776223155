"""Durations drawn by inverse CDF from one uniform, so each draw uses exactly one random number."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Callable

import numpy as np
from scipy.special import gammaincinv, ndtri

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


def sampler_many(dist: Distribution) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`sampler` for an array of uniforms (the same formulas in numpy; equal to within rounding)."""
    kind = dist.dist
    if kind == "fixed":
        value = float(dist.value)
        return lambda u: np.full(len(u), value)
    if kind == "exponential":
        mean = float(dist.mean)
        return lambda u: -mean * np.log(1.0 - u)
    if kind == "uniform":
        low, span = float(dist.low), float(dist.high - dist.low)
        return lambda u: low + span * u
    if kind == "triangular":
        low, mode, high = float(dist.low), float(dist.mode), float(dist.high)
        if high == low:
            return lambda u: np.full(len(u), low)
        cut = (mode - low) / (high - low)
        return lambda u: np.where(u < cut, low + np.sqrt(u * (high - low) * (mode - low)), high - np.sqrt((1.0 - u) * (high - low) * (high - mode)))
    if kind in ("lognormal", "gamma"):
        mean, sd = float(dist.mean), float(dist.sd)
        if sd == 0:
            return lambda u: np.full(len(u), mean)
        if kind == "lognormal":
            sigma2 = math.log1p((sd / mean) ** 2)
            mu, sigma = math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
            return lambda u: np.exp(mu + sigma * ndtri(np.clip(u, 1e-12, 1 - 1e-12)))
        shape = (mean / sd) ** 2
        scale = mean / shape
        return lambda u: scale * gammaincinv(shape, np.clip(u, 1e-12, 1 - 1e-12))
    raise ValueError(f"unknown distribution {kind}")

"""What a config's forecast stands on, in words for every output: the data it was fitted to (its
vantage), the funding it assumes, what its bands hold, and whether it is ready to be believed.

All functions take plain config data (``config_dict`` of a validated config, as manifests hold
it), so a report can say the same things from a manifest as a run says from its config.
"""

from __future__ import annotations

from typing import Any, Iterator

from hnsim.config.base import financial_year_start

#: What a fan's band may hold, and how a caption says it.
UNCERTAINTY_WORDS = {
    "replication noise": "the randomness of children's paths (replication noise)",
    "lever effect ranges": "the levers' uncertain effect sizes (one draw from each range per replication)",
    "parameters": "uncertainty in the fitted parameters (a posterior ensemble of parameter sets, one per replication)",
    "future trends": "uncertain future trends (the damping of growth after the data drawn across the ensemble's members)",
}
NOT_GIVEN = "NOT GIVEN"


def _fy(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def fit_until(data: dict[str, Any]) -> int | None:
    """The last year the config was fitted to (``calibration.fit.fit_until``), or None."""
    fit = (data.get("calibration") or {}).get("fit") or {}
    value = fit.get("fit_until")
    return int(value) if value is not None else None


def data_end_year(data: dict[str, Any]) -> str | None:
    """The financial year holding the last census fitted (fit until 2019: January 2019, so 2018-19)."""
    year = fit_until(data)
    return _fy(year - 1) if year is not None else None


def data_vantage(data: dict[str, Any]) -> str:
    """One sentence: what the config was fitted to, and that later years are projections."""
    year = fit_until(data)
    if year is None:
        return "Not fitted to observed data (no calibration.fit record): every year is a projection from starting values."
    fit = data["calibration"]["fit"]
    return (f"Fitted to published data up to the January {year} census, calendar {year - 1} assessment activity (the {year} SEN2 return) "
            f"and money to {_fy(year - 1)} ({fit.get('data_dir', 'observed series')}, fitted {fit.get('date', '?')}); later years are projections.")


def funding_assumption(data: dict[str, Any]) -> str:
    """One sentence: the High Needs Block allocation the config assumes, and any money moved in by a lever."""
    finance = data.get("finance") or {}
    given = sorted(((finance.get("hnb_allocation_gbp") or {}).get("value") or {}), key=financial_year_start)
    growth = (finance.get("allocation_growth_after") or {}).get("value")
    if not given:
        return "Funding: no High Needs Block allocation given."
    text = f"Funding: the High Needs Block allocation as given for {given[0]} to {given[-1]}"
    if growth is not None:
        text += f", then {'+' if growth >= 0 else ''}{100 * growth:.1f}% a year"
        if funding_uncertain(data):
            low, high, _ = allocation_growth_range(data)
            text += f" (uncertain: {100 * low:.1f}% to {100 * high:.1f}% a year)"
    transfers = [name for name, lever in (data.get("levers") or {}).items() if lever.get("enabled") and lever.get("allocation_transfer_gbp")]
    if transfers:
        text += f", plus money moved into the block by {', '.join(transfers)}"
    return text + "."


TREND_YEARS = 5  # the allocation trend is taken over the last five financial years given (four steps)


def allocation_trend(data: dict[str, Any]) -> tuple[float, str, str] | None:
    """Growth a year of the High Needs Block allocation over the last :data:`TREND_YEARS` years
    given, and the first and last of those years; None with fewer than two years given."""
    given = (((data.get("finance") or {}).get("hnb_allocation_gbp") or {}).get("value") or {})
    years = sorted(given, key=financial_year_start)[-TREND_YEARS:]
    if len(years) < 2 or given[years[0]] <= 0:
        return None
    growth = (given[years[-1]] / given[years[0]]) ** (1.0 / (len(years) - 1)) - 1.0
    return float(growth), years[0], years[-1]


def allocation_growth_range(data: dict[str, Any]) -> tuple[float, float, str]:
    """The range of the allocation's growth after the last year given: (low, high, source).

    The config's ``finance.allocation_growth_range`` when declared; otherwise flat cash (0%) to the
    trend of the last five years given (Gloucestershire: 2015-16 £50.54m to 2019-20 £60.48m, 4.6% a
    year), with real-terms flat (about 2% a year, the GDP deflator) inside it.
    """
    declared = (data.get("finance") or {}).get("allocation_growth_range")
    if declared:
        return float(declared["low"]), float(declared["high"]), str(declared["source"])
    trend = allocation_trend(data)
    if trend is None:
        return 0.0, 0.0, "assumption: flat cash (a single allocation year gives no trend)"
    growth, first, last = trend
    return 0.0, max(growth, 0.0), (f"flat cash (0%) to the {first} to {last} trend of finance.hnb_allocation_gbp ({100 * growth:.1f}% a year); "
                                   "assumption: real-terms flat (about 2% a year, GDP deflator) lies between")


def funding_uncertain(data: dict[str, Any]) -> bool:
    """Whether the config declares its allocation growth uncertain (``finance.allocation_growth_range``)."""
    return bool((data.get("finance") or {}).get("allocation_growth_range"))


def funding_range_words(data: dict[str, Any]) -> str:
    """The funding uncertainty in words: 'funding (HNB allocation growth after 2019-20: flat cash to
    the 2015-2019 trend, 0.0% to 4.6% a year)'."""
    low, high, _ = allocation_growth_range(data)
    given = sorted((((data.get("finance") or {}).get("hnb_allocation_gbp") or {}).get("value") or {}), key=financial_year_start)
    trend = allocation_trend(data)

    def words(g: float) -> str:
        if g == 0:
            return "flat cash"
        if trend is not None and abs(g - trend[0]) < 0.001:
            return f"the {financial_year_start(trend[1])}-{financial_year_start(trend[2])} trend"
        return f"{'+' if g >= 0 else ''}{100 * g:.1f}% a year"

    after = f" after {given[-1]}" if given else ""
    return f"funding (HNB allocation growth{after}: {words(low)} to {words(high)}, {100 * low:.1f}% to {100 * high:.1f}% a year)"


def _has_range(node: Any) -> bool:
    """Whether plain lever data holds an effect range that is not a single value."""
    if isinstance(node, dict):
        if "low" in node and "high" in node and "source" in node and node.get("low") != node.get("high"):
            return True
        return any(_has_range(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_range(v) for v in node)
    return False


def uncertainty_sources(data: dict[str, Any]) -> list[str]:
    """What the spread of a run of this config holds, as keys of :data:`UNCERTAINTY_WORDS`.

    Always the replication noise; ``lever effect ranges`` when an enabled lever draws an effect
    from a range. A config that draws its own parameters per replication adds ``parameters``
    (``calibration.ensemble``: a posterior ensemble, member r in replication r) and, when the
    ensemble also draws unfitted inputs (``calibration.uncertain``), ``future trends``.
    A config that declares its funding uncertain (``finance.allocation_growth_range``) adds the
    funding range in words (:func:`funding_range_words`), so every deficit caption and manifest carries it.
    """
    sources = ["replication noise"]
    if any(lever.get("enabled") and _has_range(lever) for lever in (data.get("levers") or {}).values()):
        sources.append("lever effect ranges")
    calibration = data.get("calibration") if isinstance(data.get("calibration"), dict) else {}
    ensemble = calibration.get("ensemble") if isinstance(calibration.get("ensemble"), dict) else None
    if ensemble and (ensemble.get("table") or ensemble.get("file")):
        sources.append("parameters")
        if calibration.get("uncertain"):
            sources.append("future trends")
        if funding_uncertain(data):  # drawn across the members (calibration.money), so only with an ensemble
            sources.append(funding_range_words(data))
    return sources


def band_sentence(sources: list[str]) -> str:
    """What a band contains, for a caption, from a manifest's list of uncertainty sources."""
    words = [UNCERTAINTY_WORDS.get(s, s) for s in sources]
    text = "The bands hold " + (" and ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " and " + words[-1]) + "."
    if "parameters" not in sources:
        text += (" They leave out uncertainty in the fitted parameters and in future demand, so the true range of outcomes is wider"
                 " than the bands show.")
    return text


def _sources(node: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("source"), str):
            yield prefix, node["source"]
        for key, sub in node.items():
            yield from _sources(sub, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _sources(item, f"{prefix}[{i}]")


def readiness_warnings(data: dict[str, Any], name: str = "the config") -> list[str]:
    """Why a run of this config should not be believed yet, one line each (none for the shipped baseline):
    never calibrated, and every input whose source says it was NOT GIVEN (money a council must supply)."""
    lines = []
    if fit_until(data) is None:
        lines.append(f"{name} is uncalibrated (no calibration.fit record): its rates are starting values, not fitted to this "
                     "authority's data; run hnsim calibrate (docs/calibration.md) before quoting its numbers")
    missing = [path for path, source in _sources(data) if NOT_GIVEN in source]
    lines += [f"{name}: {path} was never supplied (its source says {NOT_GIVEN}); give the council's own figure" for path in missing]
    return lines


def enabled_levers(base: dict[str, Any], scenario: dict[str, Any]) -> list[str]:
    """Levers switched on in ``scenario`` that are off in ``base``, in the config's order."""
    before = base.get("levers") or {}
    return [name for name, lever in (scenario.get("levers") or {}).items() if lever.get("enabled") and not (before.get(name) or {}).get("enabled")]


def changed_paths(base: Any, scenario: Any, prefix: str = "") -> list[str]:
    """Dotted paths where ``scenario`` differs from ``base`` (a lever switched on counts as ``levers.X.enabled``)."""
    if isinstance(base, dict) and isinstance(scenario, dict):
        out = []
        for key in dict.fromkeys([*base, *scenario]):
            out += changed_paths(base.get(key), scenario.get(key), f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(base, list) and isinstance(scenario, list) and len(base) == len(scenario):
        out = []
        for i, (a, b) in enumerate(zip(base, scenario)):
            out += changed_paths(a, b, f"{prefix}[{i}]")
        return out
    return [] if base == scenario else [prefix]


def manifest_fields(configs: dict[str, dict[str, Any]], base: str) -> dict[str, Any]:
    """What a run or comparison manifest records of its outlook: the base config's data vantage,
    funding assumption and readiness warnings; the uncertainty sources of every scenario (and their union)."""
    by_scenario = {name: uncertainty_sources(data) for name, data in configs.items()}
    union = list(dict.fromkeys(s for sources in by_scenario.values() for s in sources))
    base_data = configs[base]
    return {
        "data_end_year": data_end_year(base_data),
        "data_vantage": data_vantage(base_data),
        "funding_assumption": funding_assumption(base_data),
        "uncertainty": union,
        "uncertainty_by_scenario": by_scenario,
        "warnings": readiness_warnings(base_data, base),
    }

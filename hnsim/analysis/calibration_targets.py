"""Calibration targets: the published figures a fit is judged against, and the simulated values.

Each :class:`Target` is one published figure (January EHCPs 2017, a setting's share of plans in
January 2019, requests in calendar year 2018, 2018-19 High Needs spend) with a tolerance in its own
units. Residuals are measured in tolerances, so a target is met when ``|simulated - observed| <=
tolerance`` and the fit's objective weighs a child in a small series like a child in a big one
only as far as the tolerances say.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from hnsim.results.schemas import fy_start_year

#: Settings whose January shares are fitted: label -> (observed metric, simulated metrics summed).
#: SEN2's "Mainstream school" group includes resourced provision and units.
SETTING_SHARES: dict[str, tuple[str, tuple[str, ...]]] = {
    "mainstream": ("ehcp_mainstream", ("ehcp_mainstream", "ehcp_resourced")),
    "special": ("ehcp_special", ("ehcp_special",)),
    "independent": ("ehcp_independent", ("ehcp_independent",)),
    "ap": ("ehcp_ap", ("ehcp_ap",)),
    "post16": ("ehcp_post16", ("ehcp_post16",)),
    "other": ("ehcp_other", ("ehcp_other",)),
}
SETTING_METRICS = tuple(dict.fromkeys(m for _, sims in SETTING_SHARES.values() for m in sims))
#: What each target is, in words, for the fit report's ``label`` column.
LABELS = {
    "ehcp_total": "EHCPs (January)",
    "assessment_requests_calendar_year": "requests for assessment (calendar year)",
    "new_ehcps_calendar_year": "new EHCPs (calendar year)",
    "ehcps_ceased_calendar_year": "plans ceased (calendar year)",
    "mainstream_to_special_moves_calendar_year": "mainstream to special moves (calendar year)",
    "assessments_refused_calendar_year": "refusals to assess (calendar year)",
    "assessed_no_plan_calendar_year": "assessed, no plan (calendar year)",
    "spend_total": "High Needs spend (£)",
    "spend_ap": "alternative provision spend (£)",
    "cumulative_deficit": "cumulative deficit at 31 March (£)",
    "in_year_balance": "in-year balance (£)",
    "ehcp_post16_specialist": "EHCPs in specialist post-16 institutions (January)",
    "new_ehcps_age_under5_calendar_year": "new EHCPs aged under 5 (calendar year)",
    "new_ehcps_age_5_10_calendar_year": "new EHCPs aged 5-10 (calendar year)",
    "new_ehcps_age_11_15_calendar_year": "new EHCPs aged 11-15 (calendar year)",
    "new_ehcps_age_16_25_calendar_year": "new EHCPs aged 16-25 (calendar year)",
}
#: The series a backtest's error is averaged over: January totals, requests and new plans.
HEADLINE = ("ehcp_total", "assessment_requests_calendar_year", "new_ehcps_calendar_year")


@dataclass(frozen=True)
class Rule:
    """How a published series is fitted: tolerance (relative, with an absolute floor), weight in the
    search (0: reported, not fitted), whether it is a required target, and how it is found."""

    relative: float
    floor: float
    weight: float
    required: bool = False
    how: str = "search"  # or "linear" (money), or "input" (the config sets it directly)


#: Series fitted or reported, by observed metric. Requests are published from 2016 only.
RULES: dict[str, Rule] = {
    "ehcp_total": Rule(0.03, 0.0, 1.0, required=True),
    "assessment_requests_calendar_year": Rule(0.10, 0.0, 1.0, required=True),
    "new_ehcps_calendar_year": Rule(0.10, 0.0, 1.0, required=True),
    "ehcp_post16_specialist": Rule(0.25, 15.0, 1.0),
    "ehcp_age_under5": Rule(0.15, 15.0, 0.25),
    "ehcp_age_5_10": Rule(0.05, 0.0, 0.5),
    "ehcp_age_11_15": Rule(0.05, 0.0, 0.5),
    "ehcp_age_16_19": Rule(0.10, 0.0, 0.5),
    "ehcp_age_20_25": Rule(0.25, 15.0, 0.25),
    "ehcps_ceased_calendar_year": Rule(0.25, 0.0, 0.25),
    # new plans by age band: the age mix of demand (a plan made at 3 is held far longer than one
    # made at 13, so the mix sets how fast the caseload grows); the total is fitted above
    "new_ehcps_age_under5_calendar_year": Rule(0.15, 10.0, 0.5),
    "new_ehcps_age_5_10_calendar_year": Rule(0.15, 10.0, 0.5),
    "new_ehcps_age_11_15_calendar_year": Rule(0.15, 10.0, 0.5),
    "new_ehcps_age_16_25_calendar_year": Rule(0.25, 10.0, 0.25),
    "mainstream_to_special_moves_calendar_year": Rule(0.25, 10.0, 0.0),
    "assessments_refused_calendar_year": Rule(0.25, 10.0, 0.0, how="input"),
    "assessed_no_plan_calendar_year": Rule(0.25, 10.0, 0.0, how="input"),
    # searched with the config's central spend (weighted so that placements leave room for it),
    # then solved exactly with the central spend
    "spend_total": Rule(0.03, 0.0, 4.0, required=True),
    "cumulative_deficit": Rule(0.0, 500_000.0, 0.0, required=True, how="linear"),
    "in_year_balance": Rule(0.0, 500_000.0, 0.0),
    "spend_ap": Rule(0.10, 0.0, 0.0),
}
SHARE_RULE = Rule(0.0, 0.03, 1.0, required=True)  # 3 percentage points
OTHER_SHARE_RULE = Rule(0.0, 0.03, 0.5)
#: Years in which each required series must hold (census, calendar or financial year's end).
REQUIRED_YEARS = {
    "ehcp_total": range(2015, 2020),
    "assessment_requests_calendar_year": range(2016, 2020),
    "new_ehcps_calendar_year": range(2016, 2020),
    "share": range(2019, 2020),
    "spend_total": range(2019, 2020),
    "cumulative_deficit": range(2019, 2020),
}


def rules_settings() -> dict[str, object]:
    """Every rule that turns published figures into targets, as plain data: a run's design hash
    includes it, so a resumed run cannot mix tasks fitted to other targets."""
    return {"rules": {k: asdict(v) for k, v in sorted(RULES.items())}, "share": asdict(SHARE_RULE), "other_share": asdict(OTHER_SHARE_RULE),
            "required_years": {k: [r.start, r.stop] for k, r in sorted(REQUIRED_YEARS.items())}}


@dataclass(frozen=True)
class Target:
    """One published figure and how closely the model must reproduce it."""

    target: str  # metric, or "share_<setting>"
    financial_year: str
    year: int  # census or calendar year as published; a financial year's closing year
    observed: float
    tolerance: float
    weight: float
    required: bool
    how: str
    source: str

    @property
    def is_share(self) -> bool:
        return self.target.startswith("share_")


def target_label(target: str) -> str:
    """What a target is, in words: 'share of plans: special (January)', 'EHCPs aged 16-19 (January)'."""
    if target.startswith("share_"):
        return f"share of plans: {target[6:]} (January)"
    if target.startswith("ehcp_age_"):
        return f"EHCPs aged {target[9:].replace('_', '-').replace('under5', 'under 5')} (January)"
    return LABELS.get(target, target)


def target_year(row: pd.Series) -> int:
    """The year a published figure belongs to: census or calendar year; for money, the year the
    financial year ends in (2018-19 -> 2019), so that 'fit until 2019' ends with March 2019."""
    if row["kind"] == "financial_year":
        return fy_start_year(str(row["financial_year"])) + 1
    return int(row["year"])


def build_targets(observed: pd.DataFrame, first_fy: str, last_fy: str, fit_until: int | None = None) -> list[Target]:
    """Targets from an observed table (``load_observed``) inside the simulated financial years
    ``first_fy..last_fy``, up to the year ``fit_until`` (all years when None)."""
    obs = observed.copy()
    obs["target_year"] = obs.apply(target_year, axis=1)
    inside = obs["financial_year"].map(fy_start_year).between(fy_start_year(first_fy), fy_start_year(last_fy))
    obs = obs[inside & ((obs["target_year"] <= fit_until) if fit_until is not None else True)]
    targets: list[Target] = []
    for row in obs.itertuples(index=False):
        rule = RULES.get(row.metric)
        if rule is None:
            continue
        required = rule.required and row.target_year in REQUIRED_YEARS.get(row.metric, ())
        # a published zero (a small authority's year with no plans ceased) still needs a positive
        # tolerance: at least one child for counts
        tolerance = max(rule.relative * abs(row.value), rule.floor, 0.0 if row.metric.startswith(("spend", "cumulative", "in_year")) else 1.0)
        if tolerance <= 0:
            continue
        targets.append(Target(row.metric, row.financial_year, row.target_year, float(row.value), tolerance, rule.weight, required, rule.how, row.source))
    census = obs[obs["kind"] == "census"]
    for fy, group in census.groupby("financial_year"):
        counts = group.set_index("metric")["value"]
        observed_metrics = [m for m, _ in SETTING_SHARES.values()]
        if not all(m in counts for m in observed_metrics):
            continue
        total = float(sum(counts[m] for m in observed_metrics))
        year = int(group["target_year"].iloc[0])
        for label, (metric, _) in SETTING_SHARES.items():
            rule = OTHER_SHARE_RULE if label == "other" else SHARE_RULE
            required = rule.required and year in REQUIRED_YEARS["share"]
            source = f"{group.set_index('metric').loc[metric, 'source']}; share of the setting total {total:,.0f}"
            targets.append(Target(f"share_{label}", fy, year, float(counts[metric]) / total, rule.floor, rule.weight, required, "search", source))
    targets.sort(key=lambda t: (t.target, t.year))
    return targets


def simulated_values(annual: pd.DataFrame, targets: list[Target]) -> np.ndarray:
    """Per-replication simulated values of each target: array (target x replication).

    ``annual`` is a long table of one parameter set (``replication, financial_year, metric, value``).
    """
    wide = annual.pivot_table(index=["metric", "financial_year"], columns="replication", values="value", aggfunc="first")
    out = np.full((len(targets), wide.shape[1]), np.nan)
    setting_total: dict[str, np.ndarray] = {}
    for i, t in enumerate(targets):
        if t.is_share:
            if t.financial_year not in setting_total:
                setting_total[t.financial_year] = sum(wide.loc[(m, t.financial_year)].to_numpy(dtype=float) for m in SETTING_METRICS)
            sims = SETTING_SHARES[t.target[len("share_"):]][1]
            count = sum(wide.loc[(m, t.financial_year)].to_numpy(dtype=float) for m in sims)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[i] = count / setting_total[t.financial_year]
        elif (t.target, t.financial_year) in wide.index:
            out[i] = wide.loc[(t.target, t.financial_year)].to_numpy(dtype=float)
    return out


def residuals(values: np.ndarray, targets: list[Target], how: str = "search") -> np.ndarray:
    """Weighted residuals in tolerances (mean of the replications minus observed), for the targets
    fitted by ``how`` with a positive weight."""
    means = np.nanmean(values, axis=1)
    out = []
    for mean, t in zip(means, targets):
        if t.how == how and t.weight > 0:
            r = (mean - t.observed) / t.tolerance
            out.append(np.sqrt(t.weight) * (r if np.isfinite(r) else 10.0))
    return np.array(out)


def target_table(values: np.ndarray, targets: list[Target], fit_until: int | None = None) -> pd.DataFrame:
    """The fit report's table: one row per target with observed, simulated mean, 90% interval
    (5th-95th percentile of the replications), error and whether it is within tolerance."""
    rows = []
    for v, t in zip(values, targets):
        v = v[np.isfinite(v)]
        mean = float(v.mean()) if len(v) else np.nan
        p05, p95 = (float(np.percentile(v, 5)), float(np.percentile(v, 95))) if len(v) else (np.nan, np.nan)
        error = mean - t.observed
        row = asdict(t) | {
            "simulated_mean": mean,
            "p05": p05,
            "p95": p95,
            "error": error,
            "error_pct": 100 * error / t.observed if t.observed and not t.is_share else np.nan,
            "error_in_tolerances": error / t.tolerance,
            "within_tolerance": bool(abs(error) <= t.tolerance),
            "inside_90": bool(p05 <= t.observed <= p95),
            "replications": len(v),
        }
        if fit_until is not None:
            row["fitted"] = t.year <= fit_until
        rows.append(row)
    columns = ["target", "financial_year", "year", "observed", "simulated_mean", "p05", "p95", "error", "error_pct", "tolerance", "error_in_tolerances",
               "within_tolerance", "inside_90", "required", "weight", "how", "replications", "source"]
    return pd.DataFrame(rows)[columns + (["fitted"] if fit_until is not None else [])]


def backtest_summary(table: pd.DataFrame, fit_until: int) -> tuple[pd.DataFrame, float]:
    """Test rows (years after ``fit_until``) of a target table, and the MAPE (%) of the headline
    series among them (shares and money are reported, not averaged)."""
    test = table[table["year"] > fit_until]
    headline = test[test["target"].isin(HEADLINE)]
    mape = float(headline["error_pct"].abs().mean()) if len(headline) else math.nan
    return test, mape

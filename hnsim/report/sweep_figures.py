"""A sweep's figures: a tornado per outcome (one-at-a-time designs) and a heat map per outcome
(two-parameter designs), every parameter and outcome named from the label table."""

from __future__ import annotations

from typing import Any

from hnsim.plots import labels, prepare, sweeps
from hnsim.results.rundir import RunData

MONEY_METRICS = ("spend", "hnb_allocation", "in_year_balance", "cumulative_deficit", "cost_per_ehcp")


def parameter_names(manifest: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """(label, unit) of every parameter of the sweep a manifest records, by its name."""
    spec = manifest.get("sweep") or {}
    groups = (spec.get("parameters") or {}).values()
    return {p["name"]: labels.parameter_label(p["name"], p.get("path")) for group in groups for p in group if isinstance(p, dict) and "name" in p}


def sweep_figures(run: RunData) -> list:
    """(name, title, draw, caption) of every figure of a sweep directory."""
    specs = []
    names = parameter_names(run.manifest)
    tornado = run.extra.get("tornado")
    if tornado is not None and not tornado.empty:
        for (metric, fy), _ in tornado.groupby(["metric", "financial_year"], sort=True):
            label = f"{labels.label(metric)} {fy}"
            data = prepare.tornado_from_sweep(tornado, metric, str(fy))
            money_ = metric.startswith(MONEY_METRICS)
            specs.append((
                f"tornado_{metric}_{fy}", f"Tornado: {label}",
                lambda d=data, lb=label, m=money_: (sweeps.tornado_chart(d, lb, m, names=names), d),
                lambda d, lb=label: f"{lb}: the mean over replications with each parameter at its lowest and highest level and the others at base; the vertical line is the base point; widest swing on top.",
            ))
    design, outcomes = run.extra.get("design"), run.extra.get("outcomes")
    params = [c for c in design.columns if c not in ("point", "varied")] if design is not None else []
    if len(params) == 2 and outcomes is not None:
        x, y = params
        x_name, y_name = names.get(x, (labels.tidy(x), ""))[0], names.get(y, (labels.tidy(y), ""))[0]
        for (metric, fy), _ in outcomes.groupby(["metric", "financial_year"], sort=True):
            label = f"{labels.label(metric)} {fy}"
            data = prepare.heatmap_from_sweep(outcomes, x, y, metric, str(fy))
            money_ = metric.startswith(MONEY_METRICS)
            specs.append((
                f"heatmap_{metric}_{fy}", f"Heat map: {label}",
                lambda d=data, lb=label, m=money_: (sweeps.heatmap_chart(d, x, y, "mean", lb, m, names={x: names.get(x, (labels.tidy(x), "count")), y: names.get(y, (labels.tidy(y), "count"))}), d),
                lambda d, lb=label: f"{lb}: the mean over replications at each combination of {x_name[:1].lower() + x_name[1:]} and {y_name[:1].lower() + y_name[1:]}.",
            ))
    return specs

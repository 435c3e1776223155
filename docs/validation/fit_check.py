"""How well a skill run's calibrated configs reproduce the years they were fitted to, summed over tasks.

    python docs/validation/fit_check.py results/skill-quick --origin 2018 [--tasks 8] [--members 3] [--sen2 sen2/]

Reruns each stored task's calibrated config (``info["calibrated_configs"]``) for its first
``--members`` members (replication r runs member r) to March 2020, and prints, by calendar or census
year, the flows and stocks behind the caseload's growth (requests, refusals, assessed without a plan,
new plans, plans ceased, January totals) summed over the tasks, beside the same series SEN2 publishes
for those authorities, then the simulated plans ceased in the fitted calendar years from 2015 by
reason and age (age on the 31 August before, as SEN2 counts ages), a year on average. Years up to
the origin (activity to the year before) were fitted; later ones were not.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from hnsim.config import validate
from hnsim.data.series import activity_series, caseload_series
from hnsim.experiment.calibration import with_horizon
from hnsim.model import annual_metrics, compile_parameters, simulate
from hnsim.model import records as R
from hnsim.model.metrics import RECEPTION_AGE
from hnsim.results.skill import task_outcomes

SERIES = {
    "assessment_requests_calendar_year": "requests",
    "assessments_refused_calendar_year": "refused",
    "assessed_no_plan_calendar_year": "assessed, no plan",
    "new_ehcps_calendar_year": "new plans",
    "ehcps_ceased_calendar_year": "ceased",
    "ehcp_total": "January plans",
}


CEASED = {R.EV_CEASED_LEFT_EDUCATION: "left education", R.EV_CEASED_MOVED_AWAY: "moved away", R.EV_CEASED_NEEDS_MET: "needs met", R.EV_CEASED_AGE_25: "reached 25"}


def simulated(outcome, members: int, ceased: list[pd.DataFrame] | None = None) -> pd.DataFrame:
    """``year, series, value``: the mean over the first ``members`` members of one task's calibrated
    config; each member's plans ceased in the fitted calendar years (``reason, age``, weighted to a
    year's mean) are appended to ``ceased`` when given."""
    config = validate(with_horizon(yaml.safe_load(outcome.info["calibrated_configs"][0]), int(outcome.info["last_year"])), outcome.info["key"])
    params = compile_parameters(config)
    first = config.simulation.start_date.year
    frames = []
    for member in range(members):
        log = simulate(config, replication=member, params=params)
        metrics = annual_metrics(log, params)
        if ceased is not None:
            day, code = np.asarray(log.event_day, dtype=float), np.asarray(log.event_code)
            child = np.asarray(log.event_child, dtype=np.int64)
            years = np.array([params.calendar.date(d).year for d in day])
            last = int(outcome.info["origin"]) - 1
            keep = np.isin(code, list(CEASED)) & (years >= 2015) & (years <= last)
            age = params.timeline.academic_years(day[keep]) - np.asarray(log.child_cohort, dtype=np.int64)[child[keep]] + RECEPTION_AGE
            ceased.append(pd.DataFrame({"reason": [CEASED[c] for c in code[keep]], "age": age, "weight": 1.0 / (members * (last - 2014))}))
        # financial year i holds the January census and the calendar year first + i + 1
        frames.append(pd.DataFrame({"year": [first + 1 + i for i in range(len(metrics["ehcp_total"]))], **{k: metrics[k] for k in SERIES}}))
    mean = pd.concat(frames).groupby("year").mean()
    return mean.reset_index().melt(id_vars="year", var_name="series", value_name="value")


def published(sen2_dir: Path, old_la_code: str) -> pd.DataFrame:
    """``year, series, value``: SEN2's figures for the authority, every year in the files."""
    rows = pd.concat([caseload_series(sen2_dir, old_la_code), activity_series(sen2_dir, old_la_code)], ignore_index=True)
    rows = rows[rows["metric"].isin(list(SERIES))]
    return pd.DataFrame({"year": rows["year"].astype(int), "series": rows["metric"], "value": rows["value"].astype(float)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--origin", type=int, required=True)
    parser.add_argument("--tasks", type=int, default=8, help="the first N tasks of the origin, by file name")
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--sen2", type=Path, default=None, help="SEN2 files (default: the run's, from its manifest)")
    args = parser.parse_args()
    sen2_dir = args.sen2 or Path(json.loads((args.directory / "manifest.json").read_text(encoding="utf-8"))["sen2_dir"])
    outcomes = [outcome for _, outcome in task_outcomes(args.directory, args.origin)][: args.tasks]
    if not outcomes:
        parser.error(f"no tasks of origin {args.origin} in {args.directory}")
    ceased: list[pd.DataFrame] = []
    sims = pd.concat([simulated(o, args.members, ceased) for o in outcomes])
    pubs = pd.concat([published(sen2_dir, str(o.info["old_la_code"])) for o in outcomes])
    years = sorted(set(sims["year"]) & set(pubs["year"]))
    table = pd.DataFrame({"year": years})
    for key, label in SERIES.items():
        for name, frame in (("simulated", sims), ("published", pubs)):
            values = frame[frame["series"] == key].groupby("year")["value"].agg(lambda v: v.sum(min_count=len(outcomes)))
            table[f"{label}: {name}"] = table["year"].map(values)
    names = ", ".join(str(o.info["la_name"]) for o in outcomes)
    print(f"{len(outcomes)} tasks at origin {args.origin} ({names}), {args.members} members each; fitted: censuses to {args.origin}, activity to {args.origin - 1}\n")
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(str(row[0]) if i == 0 else ("-" if pd.isna(v) else f"{v:,.0f}") for i, v in enumerate(row)) + " |")
    by_age = pd.concat(ceased).assign(band=lambda d: pd.cut(d["age"], [-1, 15, 16, 18, 19, 30], labels=["under 16", "16", "17-18", "19", "20-25"]))
    table = by_age.pivot_table(index="reason", columns="band", values="weight", aggfunc="sum", observed=False).fillna(0.0)
    print(f"\nSimulated plans ceased a year, calendar years 2015-{args.origin - 1}, by reason and age, summed over the tasks\n")
    print("| reason | " + " | ".join(str(c) for c in table.columns) + " | all |")
    print("|" + "---|" * (len(table.columns) + 2))
    for reason, row in table.iterrows():
        print(f"| {reason} | " + " | ".join(f"{v:,.0f}" for v in row) + f" | {row.sum():,.0f} |")


if __name__ == "__main__":
    main()

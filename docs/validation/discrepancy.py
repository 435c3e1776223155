"""What the model discrepancy does: a skill directory's tasks scored four ways, as Markdown.

    python docs/validation/discrepancy.py results/skill-quick [--sen2 sen2/]
    python docs/validation/discrepancy.py --steps --sen2 sen2/      # the steps known at each origin


1. **simulated**: the members' simulated values as they are;
2. **anchored**: each member anchored on the last published value, no steps, no growth error;
3. **steps**: anchored, with the yearly steps only;
4. **forecast**: anchored, with the steps and the growth error (what ``hnsim skill`` scores as hnsim).

Each from the simulated ensembles stored with every task (``info["simulated"]``) and the steps known
at its origin, recomputed from the SEN2 files the run read (or ``--sen2``), with the task's own seed:
the fourth reproduces the run's own ``skill.parquet`` rows of hnsim exactly. Naive forecasters as stored.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from hnsim.analysis.discrepancy import Discrepancy
from hnsim.analysis.scores import MODEL, common_rows, summary_table
from hnsim.analysis.skill import discrepancy_seed, later_values, published_forecast, score_task
from hnsim.data.series import activity_series, caseload_series
from hnsim.experiment.discrepancy import discrepancy_known_at
from hnsim.plots.skill import series_label
from hnsim.results.skill import TaskOutcome, task_outcomes

HEADLINE = ("ehcp_total", "assessment_requests_calendar_year", "new_ehcps_calendar_year")


def variants(outcome: TaskOutcome, steps: Discrepancy, seed: int) -> dict[str, pd.DataFrame]:
    """The model's ensembles four ways (simulated, anchored, steps, forecast) for one stored task."""
    info = outcome.info
    origin, code = int(info["origin"]), str(info["old_la_code"])
    simulated = pd.DataFrame(info["simulated"])
    training = pd.DataFrame(info["training"], columns=["series", "year", "value"])
    task_seed = discrepancy_seed(seed, origin, code)
    return {"simulated": simulated[simulated["horizon"] > 0],
            "anchored": published_forecast(simulated, training, origin, Discrepancy({}, {}), task_seed, growth_error=False),
            "steps": published_forecast(simulated, training, origin, steps, task_seed, growth_error=False),
            "forecast": published_forecast(simulated, training, origin, steps, task_seed)}


def steps_table(sen2_dir: Path, origins: tuple[int, ...] = (2016, 2017, 2018)) -> None:
    """The sd of the steps of every series at each origin, how many, and which were borrowed."""
    known = {origin: discrepancy_known_at(sen2_dir, origin) for origin in origins}
    print("| series | " + " | ".join(f"origin {o}: sd, steps" for o in origins) + " |")
    print("|---|" + "---|" * len(origins))
    for series in sorted(known[origins[0]].steps, key=series_label):
        cells = []
        for origin in origins:
            steps, source = known[origin].steps[series], known[origin].sources[series]
            if not len(steps):
                cells.append(f"none ({source.split(': ', 1)[1]}): anchored only")
                continue
            cell = f"{steps.std(ddof=1):.3f}, {len(steps):,}"
            if source.startswith("borrowed"):
                lender = source.split(" of ", 1)[1].split(",", 1)[0]
                cell += f" borrowed from {series_label(lender).split(',')[0]} ({source.rsplit('(', 1)[1].rstrip(')')})"
            cells.append(cell)
        print(f"| {series_label(series)} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, nargs="?")
    parser.add_argument("--sen2", type=Path, default=None, help="SEN2 files (default: the run's, from its manifest)")
    parser.add_argument("--write", type=Path, default=None, help="also write each variant's skill.parquet under this directory (for tables.py)")
    parser.add_argument("--steps", action="store_true", help="print the table of the steps known at each origin (needs --sen2) instead")
    args = parser.parse_args()
    if args.steps:
        if args.sen2 is None:
            parser.error("--steps needs --sen2")
        steps_table(args.sen2)
        return
    if args.directory is None:
        parser.error("give a skill directory, or --steps")
    manifest = json.loads((args.directory / "manifest.json").read_text(encoding="utf-8"))
    sen2_dir = args.sen2 or Path(manifest.get("sen2_dir") or manifest["discrepancy_sen2_dir"])
    seed = int(manifest["seed"])
    scored: dict[str, list[pd.DataFrame]] = {"simulated": [], "anchored": [], "steps": [], "forecast": []}
    steps: dict[int, Discrepancy] = {}
    published: dict[str, pd.DataFrame] = {}
    for _path, outcome in task_outcomes(args.directory):
        info = outcome.info
        origin, code = int(info["origin"]), str(info["old_la_code"])
        if origin not in steps:
            steps[origin] = discrepancy_known_at(sen2_dir, origin)
        if code not in published:
            published[code] = pd.concat([caseload_series(sen2_dir, code), activity_series(sen2_dir, code)], ignore_index=True)
        truth = later_values(published[code], origin)
        naive = outcome.ensembles[outcome.ensembles["forecaster"] != MODEL]
        for name, model in variants(outcome, steps[origin], seed).items():
            scored[name].append(score_task(TaskOutcome(pd.concat([model, naive], ignore_index=True), info), truth))
    print("| hnsim as | series | n | mean APE | bias | CRPS skill, % of observed (best naive) | inside 50% / 90% |")
    print("|---|---|---|---|---|---|---|")
    for name, parts in scored.items():
        if args.write is not None:
            (args.write / name).mkdir(parents=True, exist_ok=True)
            pd.concat(parts, ignore_index=True).to_parquet(args.write / name / "skill.parquet")
        table = common_rows(pd.concat(parts, ignore_index=True), ["old_la_code", "origin", "series", "year"])
        for series in (*HEADLINE, "all"):
            rows = table if series == "all" else table[table["series"] == series]
            summary = summary_table(rows.assign(all="all"), ["all"]).set_index("forecaster").loc[MODEL]
            label = "**all series pooled**" if series == "all" else series
            print(f"| {name} | {label} | {int(summary['n'])} | {summary['mean_ape']:.1f}% | {summary['mean_pct_error']:+.1f}% | "
                  f"{summary['crps_pct_skill']:+.2f} ({summary['best_naive_pct']}) | {100 * summary['coverage_50']:.0f}% / {100 * summary['coverage_90']:.0f}% |")


if __name__ == "__main__":
    sys.exit(main())

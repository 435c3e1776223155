"""How far the model's continuation past 19 can reach the published 20-25 band, as Markdown.

    python docs/validation/post19.py results/skill-quick [--origin 2018] [--authorities 8] [--members 2]

For the first ``--authorities`` tasks of a skill directory at ``--origin``, each of the first
``--members`` members of the task's calibrated ensemble is simulated again with its fitted share of
plans continuing at 19 (``placement.transfer.post19_continue_probability``), then with 0.5 and 0.75,
everything else as fitted, to the March after the task's last year of data. Printed: the January 20-25 band, the 16-19 band and the FE group, summed
over the authorities (mean over members), against the SEN2 figures of the same authorities. The
years after the origin were not fitted; they show what the mechanism can reach, not a forecast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import yaml

from hnsim.config.ensemble import member_data
from hnsim.config.load import apply_overrides
from hnsim.experiment.calibration import with_horizon
from hnsim.experiment.runner import run_replication
from hnsim.experiment.national import every_authority_series
from hnsim.results.skill import task_outcomes

SERIES = ("ehcp_age_20_25", "ehcp_age_16_19", "ehcp_post16")
CONTINUE = "placement.transfer.post19_continue_probability.value"
SHARES = (0.5, 0.75)


def member_config(config: dict, member: int, share: float | None, last_year: int) -> dict:
    """The calibrated ``config`` as replication ``member`` runs it (its member's values set), to
    March after ``last_year``, the share continuing at 19 set to ``share`` unless None."""
    data = member_data(with_horizon(config, last_year), member)
    return data if share is None else apply_overrides(data, {CONTINUE: share})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--origin", type=int, default=2018)
    parser.add_argument("--authorities", type=int, default=8)
    parser.add_argument("--members", type=int, default=2)
    parser.add_argument("--sen2", type=Path, default=None, help="SEN2 files (default: the run's, from its manifest)")
    args = parser.parse_args()
    manifest = json.loads((args.directory / "manifest.json").read_text(encoding="utf-8"))
    sen2_dir = args.sen2 or Path(manifest.get("sen2_dir") or manifest["discrepancy_sen2_dir"])
    published = every_authority_series(sen2_dir)
    rows, fitted, names = [], [], []
    outcomes = [o for _p, o in task_outcomes(args.directory) if int(o.info["origin"]) == args.origin][: args.authorities]
    for outcome in outcomes:
        info = outcome.info
        config = yaml.safe_load(info["calibrated_configs"][0])
        names.append(str(info["la_name"]))
        mine = published[(published["authority"].astype(str) == str(info["old_la_code"])) & published["series"].isin(SERIES)]
        rows += [("SEN2", s, int(y), float(v)) for s, y, v in mine[["series", "year", "value"]].itertuples(index=False)]
        for member in range(args.members):
            fitted.append(float(config["calibration"]["ensemble"]["table"][member][CONTINUE]))
            for share in (None, *SHARES):
                table = run_replication(member_config(config, member, share, int(info["last_year"])), member, int(manifest["seed"])).table
                table = table[table["metric"].isin(SERIES)]
                label = "fitted share" if share is None else f"share {share:.2f}"
                rows += [(label, m, int(fy[:4]) + 1, v / args.members) for m, fy, v in table[["metric", "financial_year", "value"]].itertuples(index=False)]
    frame = pd.DataFrame(rows, columns=["who", "series", "year", "value"])
    frame = frame[frame["year"].between(2015, 2019)]
    wide = frame.groupby(["series", "who", "year"])["value"].sum().unstack("year").round(0)
    print(f"{len(outcomes)} authorities at origin {args.origin} ({', '.join(names)}), {args.members} members each; "
          f"fitted shares continuing at 19: {min(fitted):.2f} to {max(fitted):.2f} (median {pd.Series(fitted).median():.2f})\n")
    print("| series | run | " + " | ".join(str(y) for y in wide.columns) + " |")
    print("|---|---|" + "---|" * len(wide.columns))
    for (series, who), values in wide.iterrows():
        print(f"| {series} | {who} | " + " | ".join(f"{v:,.0f}" for v in values) + " |")


if __name__ == "__main__":
    sys.exit(main())

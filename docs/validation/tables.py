"""The tables of docs/validation.md from a skill or rolling-backtest directory, as Markdown.

    python docs/validation/tables.py results/skill-quick > /tmp/quick-tables.md

Everything is computed from the directory's ``skill.parquet`` (one row per scored value), with
hnsim's own scoring functions, so the page can be regenerated after any run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from hnsim.analysis.scores import MODEL, common_rows, summary_table
from hnsim.plots.skill import series_label

HEADLINE = ("ehcp_total", "assessment_requests_calendar_year", "new_ehcps_calendar_year")
KEYS = ["authority", "origin", "series", "year"]


def _pct(v: float) -> str:
    return "-" if pd.isna(v) else f"{v:.1f}%"


def _share(v: float) -> str:
    return "-" if pd.isna(v) else f"{100 * v:.0f}%"


def must_hold(scored: pd.DataFrame) -> str:
    """By origin, headline series and horizon 1-2: hnsim's mean APE against the best naive
    forecaster's (lowest mean APE), hnsim's CRPS skill (% of observed) and whether both hold."""
    rows = ["| origin | series | horizon | n | hnsim mean APE | best naive mean APE | CRPS skill, % of observed | APE no worse and CRPS better |", "|---|---|---|---|---|---|---|---|"]
    table = summary_table(scored[scored["series"].isin(HEADLINE) & scored["horizon"].isin([1, 2])], ["origin", "series", "horizon"])
    held = total = 0
    for (origin, series, horizon), cell in table.groupby(["origin", "series", "horizon"], sort=True):
        model = cell[cell["forecaster"] == MODEL].iloc[0]
        naive = cell[cell["forecaster"] != MODEL].sort_values("mean_ape").iloc[0]
        ok = model["mean_ape"] <= naive["mean_ape"] and model["crps_pct_skill"] > 0
        held, total = held + ok, total + 1
        rows.append(f"| {origin} | {series_label(series)} | {horizon} | {int(model['n'])} | {_pct(model['mean_ape'])} | {_pct(naive['mean_ape'])} ({naive['forecaster'].replace('_', ' ')}) "
                    f"| {model['crps_pct_skill']:+.2f} | {'yes' if ok else '**no**'} |")
    return "\n".join(rows) + f"\n\nHeld in {held} of {total} cells."


def by_series(scored: pd.DataFrame, horizons: bool = False) -> str:
    """hnsim against the best naive forecaster by series (and horizon)."""
    by = ["series", "horizon"] if horizons else ["series"]
    table = summary_table(scored, by)
    pooled = summary_table(scored, ["horizon"] if horizons else []).assign(series="__all__")
    table = pd.concat([table, pooled], ignore_index=True)
    rows = ["| series | horizon | n | hnsim mean APE | best naive mean APE | hnsim bias | CRPS skill, % of observed (best naive) | hnsim inside 50% / 90% |", "|---|---|---|---|---|---|---|---|"]
    keys = by if horizons else ["series"]
    for key, cell in table.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        series = key[0]
        if horizons and series not in (*HEADLINE, "__all__"):
            continue
        model = cell[cell["forecaster"] == MODEL].iloc[0]
        naive = cell[cell["forecaster"] != MODEL].sort_values("mean_ape").iloc[0]
        name = "**all series pooled**" if series == "__all__" else series_label(series)
        horizon = key[1] if horizons else "all"
        rows.append(f"| {name} | {horizon} | {int(model['n'])} | {_pct(model['mean_ape'])} | {_pct(naive['mean_ape'])} ({naive['forecaster'].replace('_', ' ')}) | {model['mean_pct_error']:+.1f}% "
                    f"| {model['crps_pct_skill']:+.2f} ({str(model['best_naive_pct']).replace('_', ' ')}) | {_share(model['coverage_50'])} / {_share(model['coverage_90'])} |")
    return "\n".join(rows)


def forecasters(scored: pd.DataFrame) -> str:
    """Every forecaster, everything pooled."""
    table = summary_table(scored, [])
    rows = ["| forecaster | n | mean APE | median APE | bias | MASE | inside 50% | inside 90% | mean CRPS (% of observed) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples(index=False):
        rows.append(f"| {r.forecaster.replace('_', ' ')} | {r.n} | {_pct(r.mean_ape)} | {_pct(r.median_ape)} | {r.mean_pct_error:+.1f}% | {r.mase:.2f} | {_share(r.coverage_50)} | {_share(r.coverage_90)} | {_pct(r.mean_crps_pct)} |")
    return "\n".join(rows)


def main(directory: str) -> None:
    scored = common_rows(pd.read_parquet(Path(directory) / "skill.parquet"), KEYS)
    print("### Must hold: headline series at horizons 1 and 2, by origin\n")
    print(must_hold(scored))
    print("\n### By series, all horizons and origins\n")
    print(by_series(scored))
    print("\n### By horizon, headline series and all series pooled\n")
    print(by_series(scored, horizons=True))
    print("\n### Every forecaster, everything pooled\n")
    print(forecasters(scored))


if __name__ == "__main__":
    main(sys.argv[1])

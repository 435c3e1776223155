"""What a baseline's long-run fan implies, from a run directory: plans per year of age in each
age band, and requests for assessment per 100 children on SEN support, for chosen years.

    hnsim run configs/gloucestershire.yaml -n 100 --out results/baseline-100
    python docs/validation/long_run.py results/baseline-100 > docs/validation/long_run.md

Medians of the replications with their 5th-95th percentiles; replication r is ensemble member r.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

#: Age bands and the single years of age each spans.
BANDS = {"ehcp_age_under5": ("under 5", 5), "ehcp_age_5_10": ("5-10", 6), "ehcp_age_11_15": ("11-15", 5), "ehcp_age_16_19": ("16-19", 4),
         "ehcp_age_20_25": ("20-25", 6)}
YEARS = ("2018-19", "2024-25", "2029-30", "2034-35")


def _cell(values: pd.Series, digits: int = 0) -> str:
    return f"{values.median():,.{digits}f} ({values.quantile(0.05):,.{digits}f}-{values.quantile(0.95):,.{digits}f})"


def long_run_table(annual: pd.DataFrame, years: tuple[str, ...] = YEARS) -> str:
    """The Markdown table of plans per year of age and requests per 100 on SEN support."""
    wide = annual.pivot_table(index=["replication", "financial_year"], columns="metric", values="value")
    head = ["financial year", *[f"plans per year of age, {label}" for label, _ in BANDS.values()], "requests per 100 on SEN support", "EHCPs (January)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for year in years:
        x = wide.xs(year, level="financial_year")
        cells = [_cell(x[band] / width) for band, (_, width) in BANDS.items()]
        cells.append(_cell(100 * x["assessment_requests"] / x["sen_support_total"], 1))
        cells.append(_cell(x["ehcp_total"]))
        rows.append(f"| {year} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    run = Path(sys.argv[1])
    print(long_run_table(pd.read_parquet(run / "annual.parquet")))

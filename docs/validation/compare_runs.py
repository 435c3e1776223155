"""How hnsim's scores changed from one skill run to another, paired by published value, as Markdown.

    python docs/validation/compare_runs.py BEFORE_DIR AFTER_DIR [--by series]

Both directories are ``hnsim skill`` (or ``hnsim backtest --origins``) outputs; the values both
scored are compared one to one (:func:`hnsim.analysis.scores.paired_difference`), with a standard
error that counts each authority once. A difference within about two standard errors is one the
two runs cannot tell from the calibrations' own noise (docs/validation.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from hnsim.analysis.scores import paired_difference

LABELS = {"abs_pct_error": "mean APE (points)", "crps_pct": "mean CRPS, % of observed (points)", "inside_50": "inside the 50% interval",
          "inside_90": "inside the 90% interval", "pct_error": "bias (points)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--by", default=None, help="also by this column (series, origin, horizon)")
    args = parser.parse_args()
    before, after = (pd.read_parquet(d / "skill.parquet") for d in (args.before, args.after))
    table = paired_difference(before, after, by=args.by)
    share = table["score"].str.startswith("inside")
    for column in ("before", "after", "difference", "se"):
        table[column] = table[column].where(~share, table[column] * 100)
    head = ([args.by] if args.by else []) + ["score", "n", "authorities", "before", "after", "after - before", "se"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in table.itertuples(index=False):
        first = [str(getattr(row, args.by))] if args.by else []
        print("| " + " | ".join(first + [LABELS[row.score], f"{row.n:,}", str(row.clusters), f"{row.before:.2f}", f"{row.after:.2f}",
                                        f"{row.difference:+.2f}", f"{row.se:.2f}"]) + " |")


if __name__ == "__main__":
    sys.exit(main())

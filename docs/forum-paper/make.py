"""Regenerate the worked example of docs/forum-paper.md: run the Forum paper's comparison and its
report, then copy the curated figures and tables into docs/forum-paper/.

    python docs/forum-paper/make.py [--replications N] [--workers W]

It runs ``hnsim experiment experiments/forum_paper.yaml`` (the comparison, then ``hnsim report``
with the experiment's key years) with the hnsim importable from here, so a change to the model or
the baseline is one command away from new figures. Run it from anywhere; paths are the repository's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "experiments" / "forum_paper.yaml"
RESULTS = ROOT / "results" / "forum_paper"
HERE = Path(__file__).resolve().parent
#: The figures the paper shows, in its order, and the tables it quotes.
FIGURES = ["ehcp_fan", "spend_by_line", "deficit_fan", "spend_change", "scenario_comparison", "placement_by_scenario"]
TABLES = ["scenario_summary.csv", "dsg_plan.csv", "dsg_differences.csv", "dsg_plan.xlsx"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", "-n", type=int, default=None, help="replications per scenario (default: the experiment's)")
    parser.add_argument("--workers", "-w", type=int, default=None, help="local processes (default: all cores)")
    args = parser.parse_args()
    command = [sys.executable, "-m", "hnsim.cli", "experiment", str(EXPERIMENT)]
    if args.replications:
        command += ["--replications", str(args.replications)]
    if args.workers:
        command += ["--workers", str(args.workers)]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    report = RESULTS / "report"
    for name in FIGURES:
        shutil.copyfile(report / "figures" / f"{name}.png", HERE / f"{name}.png")
    for name in TABLES:
        shutil.copyfile(report / "tables" / name, HERE / name)
    captions = json.loads((report / "figures" / "captions.json").read_text(encoding="utf-8"))
    manifest = json.loads((RESULTS / "manifest.json").read_text(encoding="utf-8"))
    lines = [f"# Captions of the worked example ({manifest['replications']} replications, seed {manifest['seed']}, hnsim {manifest['hnsim_version']})", ""]
    lines += [f"## {captions[name]['title']}\n\n![{captions[name]['title']}]({name}.png)\n\n{captions[name]['caption']}\n" for name in FIGURES]
    (HERE / "captions.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"copied {len(FIGURES)} figures, {len(TABLES)} tables and captions.md into {HERE.relative_to(ROOT)}; the whole report is in {report.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

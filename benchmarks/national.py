"""How long `hnsim national` takes on this machine and how it scales with workers, measured in one run.

Runs a handful of authorities of different sizes (build, calibrate with the default budget,
project) with 1 and then 2 local worker processes; records each authority's task seconds and the
wall time; fits task seconds = a + b x January caseload for each worker count; and extrapolates the
full national run (every authority at the latest census) as

    1 worker:  max(sum of predicted task seconds, authorities x preparation seconds)
               (the parent prepares configs on the other core while the worker runs)
    W workers: (sum of predicted task seconds + authorities x preparation seconds) / W
               (workers and the parent share the cores)

Each extrapolation is made twice: from the tasks' wall seconds (as measured, whatever else the
machine was doing) and from their CPU seconds (what they would take on an idle machine). It prints
the measured and extrapolated times and the ratios (speed-up of 2 workers over 1, the slow-down of
each task when two run at once).

    python benchmarks/national.py [--data ../shared/data/sen2] [--la 857 --la 805 ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from hnsim.data import sen2
from hnsim.experiment.executors import open_pool
from hnsim.experiment.national import NationalDesign, census_caseloads, file_name, national_authorities, prepare, read_authority, run_national

ROOT = Path(__file__).resolve().parents[1]
#: Rutland, Hartlepool, Derby (the median), Gloucestershire, Norfolk: 197 to 6,152 plans in January 2019.
DEFAULT_LAS = ["857", "805", "831", "916", "926"]


def run_once(design: NationalDesign, authorities: list[sen2.Authority], workers: int) -> dict:
    """One national run of ``authorities`` on ``workers`` local processes: wall and task seconds."""
    with tempfile.TemporaryDirectory(prefix="hnsim-national-bench-") as out, open_pool(workers) as pool:
        started = time.perf_counter()
        run_national(design, authorities, out, pool)
        wall = time.perf_counter() - started
        infos = {a.old_la_code: read_authority(Path(out) / "authorities" / file_name(a)).info for a in authorities}
    return {"workers": workers, "wall_seconds": round(wall, 1), "load_average_after": round(os.getloadavg()[0], 2),
            "task_seconds": {k: i["seconds"] for k, i in infos.items()}, "task_cpu_seconds": {k: i["cpu_seconds"] for k, i in infos.items()}}


def extrapolate(seconds: dict[str, float], chosen: list[sen2.Authority], everyone: list[sen2.Authority], sizes: dict[str, float],
                workers: int, prep_seconds: float) -> dict:
    """Task seconds = a + b x caseload fitted on ``chosen``; the national run's wall time on ``workers``."""
    x = np.array([sizes[a.old_la_code] for a in chosen])
    b, a = np.polyfit(x, np.array([seconds[au.old_la_code] for au in chosen]), 1)
    predicted = sum(max(a + b * sizes[au.old_la_code], 0.0) for au in everyone)
    national = max(predicted, len(everyone) * prep_seconds) if workers == 1 else (predicted + len(everyone) * prep_seconds) / workers
    return {"intercept": round(a, 2), "per_1000_plans": round(1000 * b, 2), "national_task_seconds": round(predicted),
            "national_wall_seconds": round(national), "national_wall_minutes": round(national / 60, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "sen2"))
    parser.add_argument("--la", action="append", default=None, help="authority (old code or name); repeat (default: five of different sizes)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()

    design = NationalDesign(Path(args.data)).resolved()
    chosen = national_authorities(design.sen2_dir, args.la or DEFAULT_LAS)
    everyone = national_authorities(design.sen2_dir)
    sizes = census_caseloads(design.sen2_dir)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    for auth in chosen[:2]:  # warm the SEN2 reader's cache so preparation is timed as in a long run
        prepare(design, auth)
    prep = []
    for auth in chosen:
        t = time.perf_counter()
        prepare(design, auth)
        prep.append(time.perf_counter() - t)
    prep_seconds = float(np.mean(prep))
    runs = [run_once(design, chosen, w) for w in args.workers]
    total_plans = sum(sizes[a.old_la_code] for a in everyone)
    result = {"authorities": [{"old_la_code": a.old_la_code, "la_name": a.name, "january_caseload": sizes[a.old_la_code]} for a in chosen],
              "budget": {"replications": design.replications, "fit_replications": design.fit_replications, "max_evaluations": design.max_evaluations,
                         "horizon": design.horizon},
              "cpus": os.cpu_count(), "load_average_before": round(load_before, 2), "preparation_seconds_per_authority": round(prep_seconds, 2), "runs": []}
    for run in runs:
        w = run["workers"]
        # as measured (whatever else the machine is doing), and from CPU seconds (as on an idle machine)
        result["runs"].append({**run, "as_measured": extrapolate(run["task_seconds"], chosen, everyone, sizes, w, prep_seconds),
                               "idle_machine": extrapolate(run["task_cpu_seconds"], chosen, everyone, sizes, w, prep_seconds)})
    if len(runs) > 1:
        one, two = result["runs"][0], result["runs"][1]
        result["ratios"] = {
            "measured_speedup_on_these_authorities": round(one["wall_seconds"] / two["wall_seconds"], 2),
            "task_slowdown_when_two_run_at_once": round(float(np.mean([two["task_seconds"][k] / one["task_seconds"][k] for k in one["task_seconds"]])), 2),
            "task_cpu_ratio_two_over_one": round(float(np.mean([two["task_cpu_seconds"][k] / one["task_cpu_seconds"][k] for k in one["task_cpu_seconds"]])), 2),
            "extrapolated_national_speedup_as_measured": round(one["as_measured"]["national_wall_seconds"] / two["as_measured"]["national_wall_seconds"], 2),
            "extrapolated_national_speedup_idle_machine": round(one["idle_machine"]["national_wall_seconds"] / two["idle_machine"]["national_wall_seconds"], 2),
        }
    result["benchmark_seconds"] = round(time.perf_counter() - started, 1)
    result["national_authorities"], result["national_january_caseload"] = len(everyone), total_plans
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(chosen)} authorities, default budget ({design.replications} replications to {design.horizon}-03-31, calibration "
          f"{design.max_evaluations} evaluations x {design.fit_replications} replications); {os.cpu_count()} cores, load average {load_before:.2f} before")
    print(f"preparation (starter config and observed series, in the parent): {prep_seconds:.2f} s per authority")
    print(f"{'authority':<28}{'Jan caseload':>14}" + "".join(f"{str(r['workers']) + ' worker(s): s, CPU s':>26}" for r in runs))
    for a in chosen:
        k = a.old_la_code
        print(f"{a.name:<28}{sizes[k]:>14,.0f}" + "".join(f"{r['task_seconds'][k]:>18.1f}{r['task_cpu_seconds'][k]:>8.1f}" for r in runs))
    for r in result["runs"]:
        m, i = r["as_measured"], r["idle_machine"]
        print(f"{r['workers']} worker(s): wall {r['wall_seconds']:.1f} s for these (load average after {r['load_average_after']:.2f}); task s = "
              f"{m['intercept']:.2f} + {m['per_1000_plans']:.2f} per 1,000 plans (CPU {i['intercept']:.2f} + {i['per_1000_plans']:.2f}); national run "
              f"({len(everyone)} authorities, {total_plans:,.0f} plans): about {m['national_wall_minutes']:.0f} min as measured, "
              f"{i['national_wall_minutes']:.0f} min on an idle machine")
    for name, value in result.get("ratios", {}).items():
        print(f"{name.replace('_', ' ')}: {value:.2f}")
    print(f"benchmark took {result['benchmark_seconds']:.0f} s")


if __name__ == "__main__":
    main()

"""Speed and memory of hnsim on this machine, measured in one run, written as a CSV and printed.

Measures:

1. bare SimPy throughput: a timeout loop, events per second (the unit the other times are given in);
2. seconds per Gloucestershire replication, in full (April 2014 to March 2035) and over the fit
   period (to March 2020, the horizon calibration simulates: ``with_horizon`` of
   ``experiment/calibration.py``), each also as bare-SimPy-event equivalents (seconds x bare
   events per second), and the ratio of the two;
3. peak memory (max resident set size) of the parent process and of the largest worker of
   ``hnsim run`` with 2 workers, at 10 and at ``--memory-replications`` (1,000) replications;
4. the speed-up of 2 local workers over 1, and the wall time of a local Dask cluster (2 workers)
   against 2 local processes on the same replications (two rounds of each, interleaved; the ratio
   of the sums);
5. the time to a decision-grade answer: the baseline and every lever overlay in configs/scenarios
   (all but stress_*.yaml and whole_strategy.yaml) compared adaptively on 2 local workers until each
   lever's cumulative difference in spend_total over 2020-21 to 2024-25 has a paired 95% half-width
   of at most GBP 0.5m, simulated to 31 March 2025 (``--to-last-year``: no later day bears on the
   answer), each half-width that of the mean stratified over the lever effects (docs/levers.md).

``--quick`` skips (3) at 1,000 replications and (5).

    python benchmarks/run.py [--quick] [--memory-replications 1000] [--out benchmarks/results.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hnsim import api  # noqa: E402
from hnsim.config import config_dict, validate  # noqa: E402
from hnsim.experiment.calibration import with_horizon  # noqa: E402
from hnsim.experiment.executors import open_pool  # noqa: E402
from hnsim.experiment.runner import freeze_long_lived, run_replication, run_tasks  # noqa: E402

CONFIG = ROOT / "configs" / "gloucestershire.yaml"
SCENARIOS = ROOT / "configs" / "scenarios"
FIT_UNTIL = 2019  # calibration's default: the fit simulates to 31 March 2020
DASK_ROUNDS = 3  # rounds of Dask against local processes, interleaved
WORKER_ROUNDS = 2  # rounds of 1 worker against 2, interleaved (one 12-replication timing spreads by about 10% here)


def bare_simpy(events: int = 1_000_000, processes: int = 100) -> float:
    """Events per second of plain SimPy processes doing nothing but timeouts."""
    env = simpy.Environment()
    per_process = events // processes

    def ticker():
        for _ in range(per_process):
            yield env.timeout(1.0)

    for _ in range(processes):
        env.process(ticker())
    started = time.perf_counter()
    env.run()
    return events / (time.perf_counter() - started)


def seconds_per_replication(config, replications: int) -> tuple[float, float]:
    """Mean seconds per replication in this process (simulation and annual metrics), and SimPy events."""
    freeze_long_lived()  # paid once a process, at its first replication (about 0.07 s): not a replication's cost
    seconds, events = [], []
    for rep in range(replications):
        started = time.perf_counter()
        result = run_replication(config, rep, config.simulation.seed)
        seconds.append(time.perf_counter() - started)
        events.append(result.sim_events)
    return sum(seconds) / replications, sum(events) / replications


def wall(tasks, seed: int, workers: int, executor=None) -> float:
    started = time.perf_counter()
    run_tasks(tasks, seed, workers, executor=executor)
    return time.perf_counter() - started


def own_peak_mb() -> float:
    """This process's peak resident set size (VmHWM). Not ``ru_maxrss``, which a process started with
    fork-and-exec inherits from its parent's size at the fork."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(replications: int) -> None:
    """(In a fresh process.) ``hnsim run`` of the baseline on 2 workers; print peak RSS as JSON."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        api.run(CONFIG, replications=replications, workers=2, out_dir=Path(out) / "run")
        seconds = time.perf_counter() - started
    print(json.dumps({
        "parent_mb": own_peak_mb(),
        "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,  # the largest worker, once the pool has closed
        "seconds": seconds,
    }))


def peak_memory(replications: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--memory-child", str(replications)], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def decision_grade(first: int, cap: int) -> dict[str, float]:
    """Baseline plus every lever overlay, adaptively to GBP 0.5m on 2 local workers."""
    overlays = sorted(p for p in SCENARIOS.glob("*.yaml") if not p.name.startswith("stress_") and p.name != "whole_strategy.yaml")
    target = api.difference_target(500_000, CONFIG, "spend_total", "2020-21:2024-25", cap, to_last_year=True)

    def say(record: dict) -> None:
        print(f"  decision-grade: {record['replications']} replications, worst 95% half-width {api.money_text(record['half_width'] or float('nan'))}",
              flush=True)

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        result = api.compare(CONFIG, overlays, first, workers=2, out_dir=Path(out) / "compare", target=target, on_batch=say)
        seconds = time.perf_counter() - started
    p = result.manifest["precision"]
    n = result.manifest["replications"]
    for row in sorted(p["scenarios"], key=lambda r: -r["half_width"]):
        print(f"  {row['scenario']:<32} {api.money_text(row['difference_mean']):>8} +/- {api.money_text(row['half_width'])}"
              f" (independent draws: +/- {api.money_text(row['half_width_independent'])}; {row['stratified_effects']} stratified effects)", flush=True)
    # where the cap stopped it: the usual estimate of the replications needed, and the time they would take
    needed = max(n, math.ceil(n * (p["achieved_half_width"] / 500_000) ** 2))
    return {"seconds": seconds, "replications": n, "scenarios": len(overlays), "met": p["met"],
            "worst_half_width_gbp": p["achieved_half_width"], "batches": len(p["batches"]), "needed": needed, "seconds_needed": seconds * needed / n,
            "worst_independent_gbp": max(row["half_width_independent"] for row in p["scenarios"]), "runs": p["replications_run"]}


def speed(config, record, replications: int = 3, parallel: int = 12) -> None:
    """Parts 1, 2 and 4: bare SimPy, seconds per replication (full and fit period), workers and Dask."""
    fit = validate(with_horizon(config_dict(config), FIT_UNTIL), "fit period")
    raw = bare_simpy()
    record("bare_simpy_events_per_second", raw, "events/s")
    full_s, full_events = seconds_per_replication(config, replications)
    fit_s, fit_events = seconds_per_replication(fit, replications)
    record("seconds_per_replication_full", full_s, "s (2014-15 to 2034-35)")
    record("bare_simpy_equivalents_full", full_s * raw, "bare events")
    record("simpy_events_per_replication_full", full_events, "events")
    record("seconds_per_replication_fit_period", fit_s, "s (2014-15 to 2019-20)")
    record("bare_simpy_equivalents_fit_period", fit_s * raw, "bare events")
    record("simpy_events_per_replication_fit_period", fit_events, "events")
    record("ratio_full_to_fit_period", full_s / fit_s, "x")

    tasks = [("baseline", config, rep) for rep in range(parallel)]
    seed = config.simulation.seed
    ones, twos = [], []
    for _ in range(WORKER_ROUNDS):
        ones.append(wall(tasks, seed, 1))
        twos.append(wall(tasks, seed, 2))
    two = twos[-1]  # the last local round opens the interleaved rounds against Dask
    record("speedup_2_workers_over_1", sum(ones) / sum(twos),
           f"x ({parallel} replications, {WORKER_ROUNDS} rounds interleaved: {' + '.join(f'{w:.1f}' for w in ones)} s on 1, "
           f"{' + '.join(f'{w:.1f}' for w in twos)} s on 2)")
    started = time.perf_counter()
    with open_pool(2, local_dask=True) as pool:  # opening starts the cluster and imports the model on its workers
        opened = time.perf_counter() - started
        # interleaved rounds, so a burst of other load on a shared machine falls on both executors
        # rather than on whichever ran during it
        dask_walls, local_walls = [], [two]
        for round_ in range(DASK_ROUNDS):
            dask_walls.append(wall(tasks, seed, 2, pool.executor))
            if round_ < DASK_ROUNDS - 1:
                local_walls.append(wall(tasks, seed, 2))
    dask, local = sum(dask_walls), sum(local_walls)
    record("seconds_to_open_local_dask_2_workers", opened, "s (cluster started, the model imported on each worker; paid once a run)")
    record("ratio_dask_2_workers_to_local_2_workers", dask / local,
           f"x wall ({' + '.join(f'{w:.1f}' for w in dask_walls)} s against {' + '.join(f'{w:.1f}' for w in local_walls)} s, "
           f"the same replications, {DASK_ROUNDS} rounds interleaved)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1,000-replication memory run and the decision-grade comparison")
    parser.add_argument("--replications", type=int, default=3, help="replications timed in this process, full and fit period")
    parser.add_argument("--parallel-replications", type=int, default=12, help="replications timed on 1 and 2 workers and on Dask")
    parser.add_argument("--memory-replications", type=int, default=1000, help="the larger of the two memory runs")
    parser.add_argument("--decision-first", type=int, default=8, help="first batch of the decision-grade comparison")
    parser.add_argument("--decision-max", type=int, default=400,
                        help="cap of the decision-grade comparison (below what is needed, the time to the target is estimated from the time to the cap)")
    parser.add_argument("--parts", default="speed,memory,decision", help="which parts to run (comma-separated: speed, memory, decision)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.csv"))
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        memory_child(args.memory_child)
        return

    parts = set(args.parts.split(","))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    handle = out.open("w", newline="", encoding="utf-8")
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["measure", "value", "unit", "machine", "measured_at"])

    def record(name: str, value: float, unit: str) -> None:
        """Print a figure and add it to the CSV at once (an interrupted run keeps what it measured)."""
        print(f"{name:>48}: {value:,.6g} {unit}", flush=True)
        writer.writerow([name, f"{value:.6g}", unit, machine, time.strftime("%Y-%m-%dT%H:%M:%S")])
        handle.flush()

    record("load_average_1_min_at_start", os.getloadavg()[0], "runnable processes")
    config = api.load_config(CONFIG)
    if "speed" in parts:
        speed(config, record, args.replications, args.parallel_replications)
    if "memory" in parts:
        for n in (10,) + (() if args.quick else (args.memory_replications,)):
            peak = peak_memory(n)
            record(f"max_rss_parent_mb_{n}_replications", peak["parent_mb"], "MB")
            record(f"max_rss_worker_mb_{n}_replications", peak["worker_mb"], "MB")
            record(f"seconds_run_{n}_replications_2_workers", peak["seconds"], "s")
    if "decision" in parts and not args.quick:
        answer = decision_grade(args.decision_first, args.decision_max)
        record("decision_grade_seconds", answer["seconds"], f"s ({answer['scenarios']} levers and the baseline, 2 workers)")
        record("decision_grade_replications", answer["replications"], f"of the baseline, {answer['batches']} batches, target {'met' if answer['met'] else 'NOT met'}")
        record("decision_grade_runs", answer["runs"], "replications of all scenarios together (each lever stops once its own target is met)")
        record("decision_grade_worst_half_width_gbp", answer["worst_half_width_gbp"], "GBP (stratified over the lever effects)")
        record("decision_grade_worst_independent_half_width_gbp", answer["worst_independent_gbp"], "GBP (as if the effects were independent draws)")
        if not answer["met"]:
            record("decision_grade_replications_needed_estimate", answer["needed"], "of the worst lever: n x (worst half-width / 0.5m)^2")
            record("decision_grade_seconds_estimate", answer["seconds_needed"], "s, the measured time scaled to that number")

    record("load_average_1_min_at_end", os.getloadavg()[0], "runnable processes (other work on the machine slows every figure)")
    handle.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""Speed and memory of hnsim on this machine, as ratios measured in one run.

Measures (1) a bare SimPy timeout loop (events per second), (2) the model's own throughput on
baseline replications, counted two ways: SimPy events scheduled, and state changes (spells and flow
events logged, including those of children without a plan, which are computed in numpy batches
rather than as SimPy events), (3) seconds per baseline replication, and (4) peak memory of a
replication; prints each and the ratios to bare SimPy.

    python benchmarks/throughput.py [--config configs/gloucestershire.yaml] [--replications 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import tracemalloc

import simpy

from hnsim.config import load_config
from hnsim.model import annual_metrics, compile_parameters, simulate


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/gloucestershire.yaml")
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()

    config = load_config(args.config)
    params = compile_parameters(config)
    raw = bare_simpy()
    sim_seconds, metric_seconds, events, changes = [], [], [], []
    for rep in range(args.replications):
        started = time.perf_counter()
        log = simulate(config, rep, config.simulation.seed, params)
        sim_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        annual_metrics(log, params)
        metric_seconds.append(time.perf_counter() - started)
        events.append(log.sim_events)
        # every state change the model makes, whether through a SimPy event or a numpy batch
        changes.append(len(log.spell_state) + len(log.event_code))
    tracemalloc.start()
    simulate(config, 0, config.simulation.seed, params)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    model_rate = sum(events) / sum(sim_seconds)
    change_rate = sum(changes) / sum(sim_seconds)
    per_rep = (sum(sim_seconds) + sum(metric_seconds)) / args.replications
    result = {
        "bare_simpy_events_per_second": round(raw),
        "model_events_per_replication": round(sum(events) / len(events)),
        "model_events_per_second": round(model_rate),
        "ratio_model_to_bare_simpy_per_event": round(model_rate / raw, 3),
        "model_state_changes_per_replication": round(sum(changes) / len(changes)),
        "model_state_changes_per_second": round(change_rate),
        "ratio_state_changes_to_bare_simpy_events": round(change_rate / raw, 3),
        "seconds_per_replication": round(per_rep, 3),
        "seconds_simulating": round(sum(sim_seconds) / args.replications, 3),
        "seconds_deriving_metrics": round(sum(metric_seconds) / args.replications, 3),
        "peak_traced_memory_mb_per_replication": round(peak / 2**20, 1),
        "max_rss_mb_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "config": args.config,
        "replications": args.replications,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:>40}: {value}")


if __name__ == "__main__":
    main()

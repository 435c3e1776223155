"""`hnsim sweep` and `hnsim seek`: many configs, on local processes or Dask."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from hnsim.cli.common import fail_input, load_or_exit, main
from hnsim.config import ConfigError


def _workers(workers: int | None) -> int:
    from hnsim.experiment.runner import default_workers

    return workers or default_workers()


@main.command("sweep")
@click.argument("sweep_file", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Sweep directory (default: results/sweeps/<sweep name>).")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None, help="Local processes, or local Dask workers (default: all cores).")
@click.option("--scheduler", default=None, help="Address of a Dask scheduler, e.g. tcp://10.0.0.5:8786 (needs hnsim[dask]).")
@click.option("--local-dask", is_flag=True, help="Run on a local Dask cluster instead of local processes.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sweep_command(sweep_file: str, out: str | None, workers: int | None, scheduler: str | None, local_dask: bool, quiet: bool) -> None:
    """Run every point of SWEEP_FILE; rerun the same command to finish an interrupted sweep."""
    from hnsim.experiment.executors import ExecutorError, open_pool
    from hnsim.experiment.sweep import SweepMismatch, run_sweep
    from hnsim.experiment.sweep_file import load_sweep

    try:
        sweep = load_sweep(sweep_file)
    except ConfigError as exc:
        fail_input(exc.problems)
    out_dir = Path(out) if out else Path("results") / "sweeps" / sweep.name
    try:
        with open_pool(_workers(workers), scheduler, local_dask) as pool:
            result = run_sweep(sweep, out_dir, pool, progress=not quiet)
    except (ExecutorError, SweepMismatch, ConfigError) as exc:
        fail_input(exc.problems)
    except KeyboardInterrupt:
        click.echo(f"interrupted: the points written are kept in {out_dir}; rerun the same command to finish", err=True)
        sys.exit(130)
    m = result.manifest
    click.echo(f"wrote {out_dir}: {m['points_done']} of {m['points']} points x {m['replications']} replications, "
               f"seed {m['seed']}, {m['executor']}, {m['wall_seconds']} s")
    _print_ranking(out_dir)
    if m["points_failed"]:
        click.echo(f"failed points ({len(m['points_failed'])}, errors in {out_dir / 'failures.csv'}):", err=True)
        for _, row in result.failures.iterrows():
            click.echo(f"  point {row['point']}: {row['error']}", err=True)
        sys.exit(1)


def _print_ranking(out_dir: Path) -> None:
    """The parameters ranked for the first outcome, so the terminal shows an answer."""
    for name, column in (("tornado.csv", "swing"), ("sensitivity.csv", None)):
        path = out_dir / name
        if not path.exists():
            continue
        table = pd.read_csv(path)
        first = table[(table["metric"] == table["metric"].iloc[0]) & (table["financial_year"] == table["financial_year"].iloc[0])]
        column = column or ("ST" if "ST" in table else "mu_star")
        click.echo(f"{first['metric'].iloc[0]} in {first['financial_year'].iloc[0]}, parameters by {column}:")
        for _, row in first.iterrows():
            click.echo(f"  {int(row['rank']):>2} {row['parameter']:<40} {row[column]:>14,.3f}")


@main.command("seek")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--parameter", "path", required=True, help="Dotted config path of the lever, e.g. capacity.places.value.special_secondary.")
@click.option("--low", type=float, required=True, help="Lowest level searched.")
@click.option("--high", type=float, required=True, help="Highest level searched.")
@click.option("--metric", required=True, help="Metric of the target, e.g. in_year_balance.")
@click.option("--year", required=True, help="Financial year of the target, e.g. 2024-25.")
@click.option("--target", type=float, required=True, help="Target value of the metric.")
@click.option("--direction", type=click.Choice(["at_least", "at_most"]), default="at_least", show_default=True, help="The metric must be at least or at most the target.")
@click.option("--confidence", type=click.FloatRange(0.5, 1, min_open=False, max_open=True), default=0.95, show_default=True, help="Confidence that the mean meets the target (one-sided).")
@click.option("--replications", "-n", type=click.IntRange(min=2), default=None, help="Replications per level (default: the config's, at least 2).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the config's).")
@click.option("--integer", is_flag=True, help="Search whole numbers only (places, caseworkers).")
@click.option("--tolerance", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop when the bracket is this narrow (default: 1/100 of the range; 1 with --integer).")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None, help="Local processes (default: all cores).")
@click.option("--scheduler", default=None, help="Address of a Dask scheduler (needs hnsim[dask]).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Where to write seek.json and seek_evaluations.csv (default: results/<config name>-seek).")
@click.option("--scenario", "overlays", multiple=True, type=click.Path(dir_okay=False), help="Scenario overlay file(s) applied in order.")
def seek_command(config: str, path: str, low: float, high: float, metric: str, year: str, target: float, direction: str,
                 confidence: float, replications: int | None, seed: int | None, integer: bool, tolerance: float | None,
                 workers: int | None, scheduler: str | None, out: str | None, overlays: tuple[str, ...]) -> None:
    """Find the level of a parameter of CONFIG at which METRIC in YEAR meets TARGET with confidence."""
    from hnsim.config import config_dict
    from hnsim.results import store
    from hnsim.experiment.executors import ExecutorError, open_pool
    from hnsim.experiment.seek import SeekProblem, seek

    cfg = load_or_exit(config, overlays)
    if not low < high:
        fail_input([f"--low ({low}) must be below --high ({high})"])
    problem = SeekProblem(path, low, high, metric, year, target, direction, confidence, integer, tolerance)
    reps = max(2, replications or cfg.simulation.replications)
    try:
        problem.check(config_dict(cfg))
    except ConfigError as exc:
        fail_input(exc.problems)
    out_dir = Path(out) if out else Path("results") / f"{Path(config).stem}-seek"
    try:
        with open_pool(_workers(workers), scheduler) as pool:
            result = seek(config_dict(cfg), problem, reps, cfg.simulation.seed if seed is None else seed, pool.executor,
                          on_evaluation=lambda e: click.echo(f"  {path} = {e['level']:,.6g}: mean {e['mean']:,.6g}, "
                                                             f"{e['bound_side']} bound {e['bound']:,.6g} -> {'meets' if e['meets'] else 'misses'}"))
    except ExecutorError as exc:
        fail_input(exc.problems)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    store.write_csv(result.evaluations, out_dir / "seek_evaluations.csv")
    store.write_json(result.summary, out_dir / "seek.json")
    click.echo(result.message)
    click.echo(f"wrote {out_dir / 'seek.json'} and {out_dir / 'seek_evaluations.csv'} ({len(result.evaluations)} levels evaluated)")
    if result.status == "not_met":
        sys.exit(1)

"""`hnsim sweep` and `hnsim seek`: many configs, on local processes or Dask."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hnsim import api
from hnsim.cli.common import EXIT_FAILED, EXIT_TARGET_NOT_MET, main, reported, workers_option


@main.command("sweep")
@click.argument("sweep_file", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Sweep directory (default: results/sweeps/<sweep name>).")
@workers_option("Local processes, or local Dask workers (default: all cores).")
@click.option("--scheduler", default=None, help="Address of a Dask scheduler, e.g. tcp://10.0.0.5:8786 (needs hnsim[dask]).")
@click.option("--local-dask", is_flag=True, help="Run on a local Dask cluster instead of local processes.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sweep_command(sweep_file: str, out: str | None, workers: int | None, scheduler: str | None, local_dask: bool, quiet: bool) -> None:
    """Run every point of SWEEP_FILE; rerun the same command to finish an interrupted sweep."""
    with reported(f"interrupted: the points written are kept in {out or 'the sweep directory'}; rerun the same command to finish"):
        result = api.sweep(sweep_file, out, workers or api.default_workers(), scheduler, local_dask, progress=not quiet)
    print_sweep(result)


def print_sweep(result) -> None:
    """Where the sweep went, the parameters ranked, and the failed points (exit 1 if any)."""
    m = result.manifest
    click.echo(f"wrote {result.out_dir}: {m['points_done']} of {m['points']} points x {m['replications']} replications, "
               f"seed {m['seed']}, {m['executor']}, {m['wall_seconds']} s")
    for line in (m.get("data_vantage"), m.get("funding_assumption")):
        if line:
            click.echo(line)
    _print_ranking(result.out_dir)
    if m["points_failed"]:
        click.echo(f"failed points ({len(m['points_failed'])}, errors in {result.out_dir / 'failures.csv'}):", err=True)
        for _, row in result.failures.iterrows():
            click.echo(f"  point {row['point']}: {row['error']}", err=True)
        sys.exit(EXIT_FAILED)


def _print_ranking(out_dir: Path) -> None:
    """The parameters ranked for the first outcome, so the terminal shows an answer."""
    for column, first in api.sweep_rankings(out_dir):
        metric = str(first["metric"].iloc[0])
        money = metric.startswith(("spend", "hnb_allocation", "in_year_balance", "cumulative_deficit", "cost_per_ehcp")) and column == "swing"
        click.echo(f"{metric} in {first['financial_year'].iloc[0]}, parameters by {column}:")
        for _, row in first.iterrows():
            value = api.money_text(row[column]) if money else f"{row[column]:,.3f}"
            click.echo(f"  {int(row['rank']):>2} {row['parameter']:<40} {value:>14}")


@main.command("seek")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--parameter", "path", required=True, help="A lever quantity, e.g. special_school_expansion.extra_places[0].places (the lever is switched on), or a config path (docs/config.md, Paths).")
@click.option("--low", type=float, required=True, help="Lowest level searched.")
@click.option("--high", type=float, required=True, help="Highest level searched.")
@click.option("--metric", required=True, help="Metric of the target, e.g. in_year_balance.")
@click.option("--year", required=True, help="Financial year of the target, e.g. 2024-25.")
@click.option("--target", type=float, required=True, help="Target value of the metric.")
@click.option("--direction", type=click.Choice(api.DIRECTIONS), default="at_least", show_default=True, help="The metric must be at least or at most the target.")
@click.option("--confidence", type=click.FloatRange(0.5, 1, min_open=False, max_open=True), default=0.95, show_default=True, help="Confidence that the mean meets the target (one-sided).")
@click.option("--replications", "-n", type=click.IntRange(min=2), default=None, help="Replications per level (default: the config's, at least 2).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the config's).")
@click.option("--integer", is_flag=True, help="Search whole numbers only (places, caseworkers).")
@click.option("--tolerance", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop when the bracket is this narrow (default: 1/100 of the range; 1 with --integer).")
@workers_option()
@click.option("--scheduler", default=None, help="Address of a Dask scheduler (needs hnsim[dask]).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Where to write seek.json and seek_evaluations.csv (default: results/<config name>-seek).")
@click.option("--scenario", "overlays", multiple=True, type=click.Path(dir_okay=False), help="Scenario overlay file(s) applied in order.")
def seek_command(config: str, path: str, low: float, high: float, metric: str, year: str, target: float, direction: str,
                 confidence: float, replications: int | None, seed: int | None, integer: bool, tolerance: float | None,
                 workers: int | None, scheduler: str | None, out: str | None, overlays: tuple[str, ...]) -> None:
    """Find the level of a lever quantity (or any parameter) of CONFIG at which METRIC in YEAR meets
    TARGET with confidence. Exit 0 when a level is found or the target is met throughout the range,
    3 when it is met at neither end."""
    with reported():
        result = api.seek(config, path, low, high, metric, year, target, direction, confidence, replications, seed, integer, tolerance,
                          workers or api.default_workers(), scheduler, out, overlays, on_evaluation=lambda e: print_evaluation(path, e, metric))
    print_seek(result)


def print_evaluation(path: str, e: dict, metric: str = "") -> None:
    """One line per level tried (money as £144.6m)."""
    money = metric.startswith(("spend", "hnb_allocation", "in_year_balance", "cumulative_deficit", "cost_per_ehcp"))
    fmt = api.money_text if money else (lambda v: f"{v:,.6g}")
    click.echo(f"  {path} = {e['level']:,.6g}: mean {fmt(e['mean'])}, {e['bound_side']} bound {fmt(e['bound'])} -> {'meets' if e['meets'] else 'misses'}")


def print_seek(result) -> None:
    """The level found and where the evaluations went (exit 3 if the target is met nowhere)."""
    click.echo(result.message)
    for line in (result.summary.get("data_vantage"), result.summary.get("funding_assumption")):
        if line:
            click.echo(line)
    click.echo(f"wrote {result.out_dir / 'seek.json'} and {result.out_dir / 'seek_evaluations.csv'} ({len(result.evaluations)} levels evaluated)")
    if result.status == "not_met":
        sys.exit(EXIT_TARGET_NOT_MET)

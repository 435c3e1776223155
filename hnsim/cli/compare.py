"""`hnsim compare`: scenarios against a base with common random numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hnsim.cli.common import fail_input, main
from hnsim.config import ConfigError


@main.command("compare")
@click.argument("base", type=click.Path(dir_okay=False))
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--replications", "-n", type=click.IntRange(min=2), default=20, show_default=True, help="Replications per scenario.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the base config's).")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None, help="Local processes (default: all cores).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: results/compare-<base>).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def compare_command(base: str, scenarios: tuple[str, ...], replications: int, seed: int | None, workers: int | None, out: str | None, quiet: bool) -> None:
    """Run BASE and each SCENARIO overlay with common random numbers and compare them.

    Writes annual.parquet, summary.csv, differences.csv (paired 95% intervals), savings.csv
    (cumulative saving and the year the in-year balance turns positive), decomposition.csv
    (volume, mix, unit cost) and outcomes.csv.
    """
    from hnsim.experiment.compare import compare, load_scenarios
    from hnsim.experiment.runner import default_workers

    try:
        configs = load_scenarios(base, scenarios)
    except ConfigError as exc:
        fail_input(exc.problems)
    except ValueError as exc:
        fail_input([str(exc)])
    out_dir = Path(out) if out else Path("results") / f"compare-{Path(base).stem}"
    seed = configs["baseline"].simulation.seed if seed is None else seed
    try:
        tables = compare(configs, replications, seed, workers or default_workers(), out_dir, progress=not quiet)
    except KeyboardInterrupt:
        click.echo("interrupted: the output directory is marked 'interrupted'", err=True)
        sys.exit(130)
    click.echo(f"wrote {out_dir}: {len(configs)} scenarios x {replications} replications, seed {seed}")
    savings = tables["savings"]
    if not savings.empty:
        last = savings["financial_year"].max()
        click.echo(f"{'scenario':<34} {'cumulative saving to ' + last:>28} {'balance >= 0 from':>18}")
        for _, row in savings[savings["financial_year"] == last].iterrows():
            interval = f"£{row['cumulative_saving'] / 1e6:,.1f}m ({row['ci95_low'] / 1e6:,.1f} to {row['ci95_high'] / 1e6:,.1f})"
            click.echo(f"{row['scenario']:<34} {interval:>28} {row['balance_positive_from'] or 'never':>18}")

"""`hnsim compare`: scenarios against a base with common random numbers."""

from __future__ import annotations

import click

from hnsim import api
from hnsim.cli.common import main, reported, workers_option


@main.command("compare")
@click.argument("base", type=click.Path(dir_okay=False))
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--replications", "-n", type=click.IntRange(min=2), default=20, show_default=True, help="Replications per scenario.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the base config's).")
@workers_option()
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: results/compare-<base>).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def compare_command(base: str, scenarios: tuple[str, ...], replications: int, seed: int | None, workers: int | None, out: str | None, quiet: bool) -> None:
    """Run BASE and each SCENARIO overlay with common random numbers and compare them.

    Writes annual.parquet, summary.csv, differences.csv (paired 95% intervals), savings.csv
    (cumulative saving and the year the in-year balance turns positive), decomposition.csv
    (volume, mix, unit cost) and outcomes.csv.
    """
    with reported("interrupted: the output directory is marked 'interrupted'"):
        result = api.compare(base, scenarios, replications, seed, workers or api.default_workers(), out, progress=not quiet)
    print_comparison(result)


def print_comparison(result) -> None:
    """Where the comparison went, and each scenario's cumulative saving to the last year."""
    m = result.manifest
    click.echo(f"wrote {result.out_dir}: {len(m['scenarios'])} scenarios x {m['replications']} replications, seed {m['seed']}")
    savings = result.tables["savings"]
    if not savings.empty:
        last = savings["financial_year"].max()
        click.echo(f"{'scenario':<34} {'cumulative saving to ' + last:>28} {'balance >= 0 from':>18}")
        for _, row in savings[savings["financial_year"] == last].iterrows():
            interval = f"£{row['cumulative_saving'] / 1e6:,.1f}m ({row['ci95_low'] / 1e6:,.1f} to {row['ci95_high'] / 1e6:,.1f})"
            click.echo(f"{row['scenario']:<34} {interval:>28} {row['balance_positive_from'] or 'never':>18}")

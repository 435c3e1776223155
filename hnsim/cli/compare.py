"""`hnsim compare`: scenarios against a base with common random numbers."""

from __future__ import annotations

import click

from hnsim import api
from hnsim.cli.common import main, reported, warn, workers_option


@main.command("compare")
@click.argument("base", type=click.Path(dir_okay=False))
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--replications", "-n", type=click.IntRange(min=2), default=20, show_default=True, help="Replications per scenario.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the base config's).")
@workers_option()
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: results/compare-<base>).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--year", default=None, help="First of the five key years printed, like 2025-26 (default: the year the run finished in, as hnsim report).")
def compare_command(base: str, scenarios: tuple[str, ...], replications: int, seed: int | None, workers: int | None, out: str | None, quiet: bool,
                    year: str | None) -> None:
    """Run BASE and each SCENARIO overlay with common random numbers and compare them.

    Writes annual.parquet, summary.csv, differences.csv (paired 95% intervals), savings.csv
    (cumulative saving and the year the in-year balance turns positive), decomposition.csv
    (volume, mix, unit cost) and outcomes.csv.
    """
    with reported("interrupted: the output directory is marked 'interrupted'"):
        result = api.compare(base, scenarios, replications, seed, workers or api.default_workers(), out, progress=not quiet)
    with reported():
        print_comparison(result, year)


def _interval(mean: float, low: float, high: float) -> str:
    return f"{api.money_text(mean)} ({api.money_text(low)} to {api.money_text(high)})"


def print_comparison(result, year: str | None = None) -> None:
    """Where the comparison went, what it stands on, and each scenario's effects over the key years
    (the same years and figures as the report's Table 1 for that --year)."""
    m = result.manifest
    click.echo(f"wrote {result.out_dir}: {len(m['scenarios'])} scenarios x {m['replications']} replications, seed {m['seed']}")
    head = api.comparison_headline(result, year)
    for line in (head.vantage, head.funding):
        if line:
            click.echo(line)
    warn(head.warnings)
    if head.effects.empty:
        return
    span = f"{head.years[0]} to {head.years[-1]}"
    end = f"31 March {int(head.years[-1][:4]) + 1}"
    click.echo(f"against the base, {span}, means of paired replications (95% interval):")
    click.echo(f"{'scenario':<30} {'saving on spend':>32} {'net effect on in-year balance':>32} {'lower deficit at ' + end:>32}")
    for _, row in head.effects.iterrows():
        cells = [_interval(row[f"{k}_mean"], row[f"{k}_ci95_low"], row[f"{k}_ci95_high"]) for k in ("saving", "balance_effect", "deficit_reduction")]
        click.echo(f"{row['label'][:30]:<30} {cells[0]:>32} {cells[1]:>32} {cells[2]:>32}")

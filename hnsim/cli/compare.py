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
@click.option("--until-half-width", "until", type=float, default=None, metavar="GBP",
              help="Add replications until every scenario's paired 95% half-width of its difference from BASE (METRIC summed over YEARS) is at most this (-n is the first batch).")
@click.option("--metric", default="spend_total", show_default=True, help="Metric of --until-half-width.")
@click.option("--years", default="2020-21:2024-25", show_default=True, metavar="FIRST:LAST", help="Financial years summed for --until-half-width.")
@click.option("--max-replications", type=click.IntRange(min=2), default=100, show_default=True, help="Cap for --until-half-width.")
@click.option("--to-last-year", is_flag=True,
              help="With --until-half-width: simulate only to the end of the last of YEARS (faster; the tables stop there, and the paths differ from a full-horizon run's).")
def compare_command(base: str, scenarios: tuple[str, ...], replications: int, seed: int | None, workers: int | None, out: str | None, quiet: bool,
                    year: str | None, until: float | None, metric: str, years: str, max_replications: int, to_last_year: bool) -> None:
    """Run BASE and each SCENARIO overlay with common random numbers and compare them.

    Writes annual.parquet, summary.csv, differences.csv (paired 95% intervals), savings.csv
    (cumulative saving and the year the in-year balance turns positive), decomposition.csv
    (volume, mix, unit cost) and outcomes.csv. With --until-half-width, replications are added in
    batches (each batch printed) until the target is met or --max-replications is reached; where
    lever effects are uncertain, the half-width is that of the mean stratified over them
    (docs/levers.md).
    """
    with reported("interrupted: the output directory is marked 'interrupted'"):
        if to_last_year and until is None:
            raise api.ConfigError(["--to-last-year: only with --until-half-width (it cuts the simulation at the last of --years)"])
        target = api.difference_target(until, base, metric, years, max_replications, to_last_year) if until is not None else None
        result = api.compare(base, scenarios, replications, seed, workers or api.default_workers(), out, progress=not quiet, target=target,
                             on_batch=batch_printer(until) if target is not None else None)
    with reported():
        print_comparison(result, year)
        if target is not None:
            print_precision(result.manifest["precision"])


def _width(value: float | None) -> str:
    return "not yet known" if value is None else api.money_text(value)


def batch_printer(target: float):
    """What prints one line per batch of an adaptive comparison: replications so far and the worst half-width."""
    def print_batch(record: dict) -> None:
        running = record.get("still_running")
        more = f"; still running: {', '.join(running)}" if running else ""
        click.echo(f"{record['replications']} replications: worst 95% half-width {_width(record['half_width'])} (target {api.money_text(target)}){more}",
                   err=True)
    return print_batch


def print_precision(p: dict) -> None:
    """Whether the target was met, after how many replications, and each scenario's difference."""
    span = f"{p['years'][0]} to {p['years'][-1]}"
    n = p["batches"][-1]["replications"]
    if p["met"]:
        click.echo(f"target met after {n} replications of the base ({p.get('replications_run', n)} runs in all, each scenario stopping "
                   f"once its own target was met): every 95% half-width at most {api.money_text(p['target_half_width'])}")
    else:
        click.echo(f"target NOT met: stopped at the cap of {n} replications with a worst 95% half-width of {_width(p['achieved_half_width'])} "
                   f"(target {api.money_text(p['target_half_width'])}); raise --max-replications for more")
    click.echo(f"{p['metric']}, scenario minus base summed over {span}, mean of paired replications +/- 95% half-width"
               f" (simulated to {p['simulated_to']}; in brackets, the half-width as if the lever effects were drawn independently):")
    for row in p["scenarios"]:
        independent = f"  ({api.money_text(row['half_width_independent'])})" if row.get("stratified_effects") else ""
        click.echo(f"{row['scenario'][:30]:<30} {api.money_text(row['difference_mean']):>10} +/- {api.money_text(row['half_width'])}{independent}"
                   f"  {row['n']} replications")


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

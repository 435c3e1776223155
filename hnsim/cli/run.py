"""`hnsim check` and `hnsim run`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hnsim.cli.common import fail_input, load_or_exit, main


@main.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--scenario", "overlays", multiple=True, type=click.Path(dir_okay=False), help="Scenario overlay file(s) applied in order.")
def check(config: str, overlays: tuple[str, ...]) -> None:
    """Validate CONFIG without running it."""
    cfg = load_or_exit(config, overlays)
    sim = cfg.simulation
    click.echo(f"ok: {config}: {cfg.meta.name}, {sim.start_date} to {sim.end_date}, seed {sim.seed}")


@main.command("run")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--replications", "-n", type=click.IntRange(min=1), default=None, help="Replications (default: the config's).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the config's).")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None, help="Local processes (default: all cores).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run directory (default: results/<config name>).")
@click.option("--scenario", "overlays", multiple=True, type=click.Path(dir_okay=False), help="Scenario overlay file(s) applied in order.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--until-half-width", "until", default=None, metavar="METRIC:YEAR:HALFWIDTH", help="Add replications until the 95% interval of METRIC in YEAR is this narrow (-n is the first batch).")
@click.option("--max-replications", type=click.IntRange(min=2), default=100, show_default=True, help="Cap for --until-half-width.")
def run_command(config: str, replications: int | None, seed: int | None, workers: int | None, out: str | None, overlays: tuple[str, ...], quiet: bool,
                until: str | None, max_replications: int) -> None:
    """Run replications of CONFIG and write manifest.json, annual.parquet and summary.csv."""
    from hnsim.experiment.run import run
    from hnsim.experiment.runner import default_workers

    cfg = load_or_exit(config, overlays)
    precision = _precision_or_exit(cfg, until, max_replications) if until else None
    name = Path(config).stem + "".join(f"+{Path(o).stem}" for o in overlays)
    out_dir = Path(out) if out else Path("results") / name
    workers = workers or default_workers()
    try:
        result = run(cfg, replications, seed, workers, out_dir, scenario=name if overlays else "baseline", progress=not quiet, config_path=config, precision=precision)
    except KeyboardInterrupt:
        click.echo("interrupted: the run directory is marked 'interrupted'", err=True)
        sys.exit(130)
    m = result.manifest
    click.echo(f"wrote {out_dir}: {m['replications']} replications, seed {m['seed']}, {m['wall_seconds']} s, {m['sim_events']:,} simulation events")
    if precision:
        p = m["precision"]
        click.echo(f"{p['metric']} in {p['financial_year']}: 95% half-width {p['achieved_half_width']:,.6g} "
                   f"({'met' if p['met'] else 'NOT met, cap reached'}; target {p['target_half_width']:,.6g})")
    _print_headline(result.summary)


def _precision_or_exit(cfg, until: str, max_replications: int):
    """Parse and check --until-half-width, or exit 2."""
    from hnsim.config import config_dict
    from hnsim.experiment.adaptive import Precision
    from hnsim.experiment.outcomes import check_outcomes

    try:
        precision = Precision.parse(until, max_replications)
    except ValueError as exc:
        fail_input([f"--until-half-width {exc}"])
    problems = check_outcomes(config_dict(cfg), [("--until-half-width", precision.metric, precision.financial_year)], "run")
    if problems:
        fail_input(problems)
    return precision


def _print_headline(summary) -> None:
    """A few headline numbers so the terminal shows the answer, not just a path."""
    wanted = ["ehcp_total", "spend_total", "hnb_allocation", "cumulative_deficit"]
    table = summary[summary["metric"].isin(wanted)].pivot_table(index="financial_year", columns="metric", values="mean")
    if table.empty:
        return
    years = [y for y in table.index if y.endswith(("-15", "-19", "-25", "-30", "-35"))]
    click.echo(f"{'year':>8} {'EHCPs':>8} {'spend £m':>9} {'alloc £m':>9} {'deficit £m':>11}")
    for year in years:
        row = table.loc[year]
        click.echo(f"{year:>8} {row['ehcp_total']:>8.0f} {row['spend_total'] / 1e6:>9.1f} {row['hnb_allocation'] / 1e6:>9.1f} {row['cumulative_deficit'] / 1e6:>11.1f}")

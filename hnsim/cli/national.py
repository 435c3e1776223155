"""`hnsim national`: build, calibrate and project every local authority in DfE's SEN2 files."""

from __future__ import annotations

import sys

import click

from hnsim import api
from hnsim.cli.common import EXIT_FAILED, main, reported, workers_option


@main.command("national")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Directory of DfE's SEN2 release files.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: results/national).")
@workers_option("Local processes, or local Dask workers (default: all cores).")
@click.option("--scheduler", default=None, help="Address of a Dask scheduler, e.g. tcp://10.0.0.5:8786 (needs hnsim[dask]).")
@click.option("--local-dask", is_flag=True, help="Run on a local Dask cluster instead of local processes.")
@click.option("--la", "las", multiple=True, help="Only this authority (name, new or old code); repeat for several. Default: every authority at the latest January census.")
@click.option("--replications", "-n", type=click.IntRange(min=2), default=10, show_default=True, help="Replications of each authority's projection (the same numbers everywhere).")
@click.option("--max-evaluations", type=click.IntRange(min=1), default=72, show_default=True, help="Parameter sets each authority's calibration may simulate (history matching: split across its waves).")
@click.option("--fit-replications", type=click.IntRange(min=1), default=2, show_default=True, help="Replications per calibration evaluation.")
@click.option("--horizon", type=click.IntRange(min=2000), default=None, help="Project to 31 March of this year (default: the template config's end, 2035).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def national_command(data_dir: str, out: str | None, workers: int | None, scheduler: str | None, local_dask: bool, las: tuple[str, ...],
                     replications: int, max_evaluations: int, fit_replications: int, horizon: int | None, quiet: bool) -> None:
    """Calibrate and project every local authority (or --la ones) from the SEN2 files in --data;
    write projections.csv, england.csv and fit_by_authority.csv. Rerun the same command to finish
    an interrupted run: authorities already written are kept."""
    with reported(f"interrupted: the authorities written are kept in {out or 'results/national'}; rerun the same command to finish"):
        result = api.national(data_dir, out, workers or api.default_workers(), scheduler, local_dask, las, replications, max_evaluations,
                              fit_replications, horizon, progress=not quiet)
    m = result.manifest
    click.echo(f"wrote {result.out_dir}: {m['authorities_done']} of {m['authorities']} authorities x {m['replications']} replications to {m['horizon']}, "
               f"seed {m['seed']}, {m['executor']}, {m['wall_seconds']} s; projections.csv, england.csv, fit_by_authority.csv, notes.md")
    for row in result.check.itertuples(index=False):
        interval = f" (90% interval {row.p05:,.0f} to {row.p95:,.0f})" if row.p05 == row.p05 else ""
        against = f"; {row.difference:+,.0f} ({row.difference_pct:+.2f}%) against {row.compared_with}" if row.compared_with else ""
        click.echo(f"  {row.measure}: {row.value:,.0f}{interval}{against}")
    click.echo("note: allocation, opening deficit and central spend are assumptions (scaled from Gloucestershire by caseload) in every "
               "authority; money results are illustrative (notes.md)", err=True)
    if len(result.failures):
        click.echo(f"failed authorities ({len(result.failures)}, errors in {result.out_dir / 'failures.csv'}):", err=True)
        for row in result.failures.itertuples(index=False):
            click.echo(f"  {row.la_name} ({row.old_la_code}, {row.la_code}), {row.stage}: {row.error}", err=True)
        sys.exit(EXIT_FAILED)

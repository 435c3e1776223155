"""`hnsim national`: build, calibrate and project every local authority in DfE's SEN2 files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hnsim.cli.common import fail_input, main
from hnsim.config import ConfigError
from hnsim.data import DataError


@main.command("national")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Directory of DfE's SEN2 release files.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: results/national).")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None, help="Local processes, or local Dask workers (default: all cores).")
@click.option("--scheduler", default=None, help="Address of a Dask scheduler, e.g. tcp://10.0.0.5:8786 (needs hnsim[dask]).")
@click.option("--local-dask", is_flag=True, help="Run on a local Dask cluster instead of local processes.")
@click.option("--la", "las", multiple=True, help="Only this authority (name, new or old code); repeat for several. Default: every authority at the latest January census.")
@click.option("--replications", "-n", type=click.IntRange(min=2), default=10, show_default=True, help="Replications of each authority's projection (the same numbers everywhere).")
@click.option("--max-evaluations", type=click.IntRange(min=1), default=11, show_default=True, help="Parameter sets each authority's calibration may simulate.")
@click.option("--fit-replications", type=click.IntRange(min=1), default=2, show_default=True, help="Replications per calibration evaluation.")
@click.option("--horizon", type=click.IntRange(min=2000), default=None, help="Project to 31 March of this year (default: the template config's end, 2035).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def national_command(data_dir: str, out: str | None, workers: int | None, scheduler: str | None, local_dask: bool, las: tuple[str, ...],
                     replications: int, max_evaluations: int, fit_replications: int, horizon: int | None, quiet: bool) -> None:
    """Calibrate and project every local authority (or --la ones) from the SEN2 files in --data;
    write projections.csv, england.csv and fit_by_authority.csv. Rerun the same command to finish
    an interrupted run: authorities already written are kept."""
    from hnsim.experiment.executors import ExecutorError, open_pool
    from hnsim.experiment.national import NationalDesign, NationalMismatch, national_authorities, run_national
    from hnsim.experiment.runner import default_workers

    out_dir = Path(out) if out else Path("results") / "national"
    try:
        design = NationalDesign(Path(data_dir), replications, fit_replications, max_evaluations, horizon).resolved()
        if design.horizon <= design.fit_until():
            fail_input([f"--horizon {horizon}: must be after {design.fit_until()}, the last January census fitted (the projection ends on 31 March)"])
        authorities = national_authorities(design.sen2_dir, list(las) or None)
    except DataError as exc:
        fail_input(exc.problems)
    try:
        with open_pool(workers or default_workers(), scheduler, local_dask) as pool:
            result = run_national(design, authorities, out_dir, pool, progress=not quiet)
    except (ExecutorError, NationalMismatch, ConfigError, DataError) as exc:
        fail_input(exc.problems)
    except KeyboardInterrupt:
        click.echo(f"interrupted: the authorities written are kept in {out_dir}; rerun the same command to finish", err=True)
        sys.exit(130)
    m = result.manifest
    click.echo(f"wrote {out_dir}: {m['authorities_done']} of {m['authorities']} authorities x {m['replications']} replications to {m['horizon']}, "
               f"seed {m['seed']}, {m['executor']}, {m['wall_seconds']} s; projections.csv, england.csv, fit_by_authority.csv, notes.md")
    for row in result.check.itertuples(index=False):
        interval = f" (90% interval {row.p05:,.0f} to {row.p95:,.0f})" if row.p05 == row.p05 else ""
        against = f"; {row.difference:+,.0f} ({row.difference_pct:+.2f}%) against {row.compared_with}" if row.compared_with else ""
        click.echo(f"  {row.measure}: {row.value:,.0f}{interval}{against}")
    click.echo("note: allocation, opening deficit and central spend are assumptions (scaled from Gloucestershire by caseload) in every "
               "authority; money results are illustrative (notes.md)", err=True)
    if len(result.failures):
        click.echo(f"failed authorities ({len(result.failures)}, errors in {out_dir / 'failures.csv'}):", err=True)
        for row in result.failures.itertuples(index=False):
            click.echo(f"  {row.la_name} ({row.old_la_code}, {row.la_code}), {row.stage}: {row.error}", err=True)
        sys.exit(1)

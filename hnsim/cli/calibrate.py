"""`hnsim calibrate` and `hnsim backtest`: fit the free parameters to published figures; test the fit
on years it was not given. Evaluations run on local processes or Dask, as sweeps do."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hnsim import api
from hnsim.cli.common import EXIT_FAILED, fail_input, main, reported, workers_option
from hnsim.cli.skill import echo_headline

_common = [
    click.argument("config", type=click.Path(dir_okay=False)),
    click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Directory of observed series (docs/data.md)."),
    click.option("--replications", "-n", type=click.IntRange(min=1), default=8, show_default=True, help="Replications per evaluation (the same ones every time)."),
    click.option("--max-evaluations", type=click.IntRange(min=1), default=250, show_default=True, help="Parameter sets simulated at most."),
    click.option("--report-replications", type=click.IntRange(min=2), default=100, show_default=True, help="Replications of the calibrated config for the report."),
    workers_option("Local processes, or local Dask workers (default: all cores)."),
    click.option("--scheduler", default=None, help="Address of a Dask scheduler, e.g. tcp://10.0.0.5:8786 (needs hnsim[dask])."),
    click.option("--local-dask", is_flag=True, help="Run on a local Dask cluster instead of local processes."),
    click.option("--method", type=click.Choice(api.CALIBRATION_METHODS), default=None, help="least_squares: one best point; history_matching: a posterior ensemble (default: the config's calibration.method)."),
    click.option("--members", type=click.IntRange(min=2), default=None, help="History matching: members kept (default: the config's calibration.ensemble.members, or 100)."),
]


def _options(f):
    for option in reversed(_common):
        f = option(f)
    return f


def _say(line: str) -> None:
    click.echo(line, err=True)


@main.command("calibrate")
@_options
@click.option("--fit-until", type=click.IntRange(min=2000), default=2019, show_default=True, help="Last year fitted (census, calendar year, or financial year ending March).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: results/<config name>-calibrated).")
@click.option("--start", type=click.Choice(api.STARTS), default="config", show_default=True, help="Start the search from the config's values or the middle of each range.")
def calibrate_command(config: str, data_dir: str, replications: int, max_evaluations: int, report_replications: int, workers: int | None,
                      scheduler: str | None, local_dask: bool, method: str | None, members: int | None, fit_until: int, out: str | None, start: str) -> None:
    """Fit CONFIG's free parameters (its calibration section) to the observed series in --data up
    to --fit-until; write the calibrated config and a fit report."""
    with reported("interrupted: nothing written"):
        made = api.calibrate(config, data_dir, fit_until, replications, max_evaluations, report_replications, workers or api.default_workers(),
                             scheduler, local_dask, start, out, say=_say, method=method, members=members)
    met = made.fit.table[made.fit.table["required"]]
    click.echo(f"wrote {made.out_dir}: {Path(config).name} (calibrated), fit_report.md, fit_report.csv; objective {made.fit.objective:.3f} after {made.fit.evaluations} evaluations; "
               f"required targets met {int(met['within_tolerance'].sum())} of {len(met)}")


@main.command("backtest")
@_options
@click.option("--fit-until", type=click.IntRange(min=2000), default=None, help="Fit on years up to this one; test on the later years.")
@click.option("--origins", default=None, help="Rolling origins instead: January census years, comma-separated (e.g. 2016,2017,2018); scored against naive forecasters like hnsim skill.")
@click.option("--sen2", "sen2_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="With --origins: DfE's SEN2 files for every authority, from which the forecasts' model discrepancy is drawn (docs/validation.md); without them forecasts are anchored on the last published value only.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: results/<config name>-backtest-<year>, or -rolling).")
def backtest_command(config: str, data_dir: str, replications: int, max_evaluations: int, report_replications: int, workers: int | None,
                     scheduler: str | None, local_dask: bool, method: str | None, members: int | None, fit_until: int | None, origins: str | None,
                     sen2_dir: str | None, out: str | None) -> None:
    """Calibrate CONFIG on the observed years up to --fit-until only (starting from the middle of
    each range, so nothing of the later years leaks in), then report the error on the later years.
    With --origins, do so from every origin and score each forecast, and four naive forecasters
    fitted to the same years, as `hnsim skill` does (docs/validation.md)."""
    if (fit_until is None) == (origins is None):
        fail_input(["give either --fit-until YEAR or --origins YEAR,YEAR,..."])
    if origins is not None:
        _rolling(config, data_dir, origins, replications, max_evaluations, report_replications, workers, scheduler, local_dask, out, sen2_dir)
        return
    if sen2_dir is not None:
        fail_input(["--sen2 goes with --origins (the rolling backtest's forecasts of published values)"])
    with reported("interrupted: nothing written"):
        made = api.backtest(config, data_dir, fit_until, replications, max_evaluations, report_replications, workers or api.default_workers(),
                            scheduler, local_dask, out, say=_say, method=method, members=members)
    b = made.backtest
    click.echo(f"wrote {made.out_dir}: backtest.csv, fit_report.md; MAPE {b.mape:.1f}% on {fit_until + 1}-{b.last_year} (totals, requests, new plans); "
               f"{int(b.test['inside_90'].sum())} of {len(b.test)} observed values inside the 90% interval")


def _rolling(config: str, data_dir: str, origins: str, replications: int, max_evaluations: int, report_replications: int, workers: int | None,
             scheduler: str | None, local_dask: bool, out: str | None, sen2_dir: str | None = None) -> None:
    """`hnsim backtest --origins`: the rolling-origin backtest of one config (api.backtest_rolling)."""
    out_dir = Path(out) if out else Path("results") / f"{Path(config).stem}-rolling"
    with reported(f"interrupted: the origins written are kept in {out_dir}; rerun the same command to finish"):
        design = api.RollingDesign(Path(config), Path(data_dir), api.origins(origins), report_replications, replications, max_evaluations,
                                   sen2_dir=Path(sen2_dir) if sen2_dir else None)
        result = api.backtest_rolling(design, out_dir, workers or api.default_workers(), scheduler, local_dask, progress=True)
    m = result.manifest
    click.echo(f"wrote {out_dir}: {m['tasks_done']} of {m['tasks']} origins, {m['replications']} replications each, {m['wall_seconds']} s")
    if m.get("fixed_after_origin"):
        click.echo("note: calibrated to later years and not freed, so kept at every origin: " + ", ".join(m["fixed_after_origin"]), err=True)
    echo_headline(result, out_dir)
    if len(result.failures):
        for row in result.failures.itertuples(index=False):
            click.echo(f"  {row.key}, {row.stage}: {row.error}", err=True)
        sys.exit(EXIT_FAILED)

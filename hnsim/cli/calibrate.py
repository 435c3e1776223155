"""`hnsim calibrate` and `hnsim backtest`: fit the free parameters to published figures; test the fit
on years it was not given."""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click
import yaml

from hnsim.cli.common import fail_input, load_or_exit, main


def _prepare(config: str, data_dir: str):
    """Plain config data and the observed table, or exit 2 with the problems."""
    from hnsim.data.errors import DataError
    from hnsim.data.observed import load_observed

    cfg = load_or_exit(config)
    if cfg.calibration is None:
        fail_input([f"{config}: no calibration section; list the free parameters under calibration.free (see docs/calibration.md)"])
    try:
        observed = load_observed(data_dir)
    except DataError as exc:
        fail_input(exc.problems)
    data = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    return data, observed


def without_later_years(data: dict, fit_until: int) -> dict:
    """Drop free parameters for financial years starting after ``fit_until`` (nothing can fit them)
    and their entries, so those years carry the last fitted year's level forward."""
    import copy

    from hnsim.analysis.calibration import sourced_node
    from hnsim.experiment.sweep_file import lookup

    data = copy.deepcopy(data)
    kept = []
    for free in data["calibration"]["free"]:
        label = free["path"].rsplit(".", 1)[-1]
        if len(label) == 7 and label[4] == "-" and label[:4].isdigit() and int(label[:4]) > fit_until:
            by_year = lookup(data, free["path"].rsplit(".", 1)[0])
            by_year.pop(label, None)
            continue
        kept.append(free)
    data["calibration"]["free"] = kept
    return data


def _run_fit(data, data_dir, fit_until, replications, max_evaluations, report_replications, workers, start, report_until=None):
    from hnsim.analysis.calibration_report import fit
    from hnsim.config import ConfigError

    with ProcessPoolExecutor(max_workers=workers) as pool:
        try:
            return fit(data, data_dir, fit_until, replications, max_evaluations, report_replications, workers, start=start, report_until=report_until,
                       progress=lambda line: click.echo(line, err=True), executor=pool)
        except ConfigError as exc:
            fail_input(exc.problems)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing written", err=True)
            sys.exit(130)


_common = [
    click.argument("config", type=click.Path(dir_okay=False)),
    click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Directory of observed series (docs/data.md)."),
    click.option("--replications", "-n", type=click.IntRange(min=1), default=8, show_default=True, help="Replications per evaluation (the same ones every time)."),
    click.option("--max-evaluations", type=click.IntRange(min=1), default=250, show_default=True, help="Parameter sets simulated at most."),
    click.option("--report-replications", type=click.IntRange(min=2), default=100, show_default=True, help="Replications of the calibrated config for the report."),
    click.option("--workers", "-w", type=click.IntRange(min=1), default=None, help="Local processes (default: all cores)."),
]


def _options(f):
    for option in reversed(_common):
        f = option(f)
    return f


@main.command("calibrate")
@_options
@click.option("--fit-until", type=click.IntRange(min=2000), default=2019, show_default=True, help="Last year fitted (census, calendar year, or financial year ending March).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: results/<config name>-calibrated).")
@click.option("--start", type=click.Choice(["config", "centre"]), default="config", show_default=True, help="Start the search from the config's values or the middle of each range.")
def calibrate_command(config: str, data_dir: str, replications: int, max_evaluations: int, report_replications: int, workers: int | None,
                      fit_until: int, out: str | None, start: str) -> None:
    """Fit CONFIG's free parameters (its calibration section) to the observed series in --data up
    to --fit-until; write the calibrated config and a fit report."""
    from hnsim.analysis.calibration_report import write_report
    from hnsim.experiment.runner import default_workers

    data, observed = _prepare(config, data_dir)
    out_dir = Path(out) if out else Path("results") / f"{Path(config).stem}-calibrated"
    result = _run_fit(data, data_dir, fit_until, replications, max_evaluations, report_replications, workers or default_workers(), start)
    write_report(result, observed, out_dir, f"Fit report: {Path(config).stem} calibrated to {fit_until}", Path(config).name)
    met = result.table[result.table["required"]]
    click.echo(f"wrote {out_dir}: {Path(config).name} (calibrated), fit_report.md, fit_report.csv; objective {result.objective:.3f} after {result.evaluations} evaluations; "
               f"required targets met {int(met['within_tolerance'].sum())} of {len(met)}")


@main.command("backtest")
@_options
@click.option("--fit-until", type=click.IntRange(min=2000), default=None, help="Fit on years up to this one; test on the later years.")
@click.option("--origins", default=None, help="Rolling origins instead: January census years, comma-separated (e.g. 2016,2017,2018); scored against naive forecasters like hnsim skill.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output directory (default: results/<config name>-backtest-<year>, or -rolling).")
def backtest_command(config: str, data_dir: str, replications: int, max_evaluations: int, report_replications: int, workers: int | None,
                     fit_until: int | None, origins: str | None, out: str | None) -> None:
    """Calibrate CONFIG on the observed years up to --fit-until only (starting from the middle of
    each range, so nothing of the later years leaks in), then report the error on the later years.
    With --origins, do so from every origin and score each forecast, and four naive forecasters
    fitted to the same years, as `hnsim skill` does (docs/validation.md)."""
    from hnsim.analysis.calibration_report import backtest_summary, markdown_table, write_report
    from hnsim.analysis.calibration_targets import target_year
    from hnsim.experiment.runner import default_workers

    if (fit_until is None) == (origins is None):
        fail_input(["give either --fit-until YEAR or --origins YEAR,YEAR,..."])
    if origins is not None:
        _rolling(config, data_dir, origins, replications, max_evaluations, report_replications, workers, out)
        return
    data, observed = _prepare(config, data_dir)
    last = int(observed.apply(target_year, axis=1).max())
    if last <= fit_until:
        fail_input([f"{data_dir}: no observed figures after {fit_until} to test on (last year {last})"])
    out_dir = Path(out) if out else Path("results") / f"{Path(config).stem}-backtest-{fit_until}"
    data = without_later_years(data, fit_until)
    result = _run_fit(data, data_dir, fit_until, replications, max_evaluations, report_replications, workers or default_workers(), "centre", report_until=last)
    test, mape = backtest_summary(result.table, fit_until)
    inside = int(test["inside_90"].sum())
    extra = (f"## Backtest\n\nFitted to {fit_until} and earlier only (search started mid-range); tested on {fit_until + 1}-{last}. "
             f"Mean absolute percentage error on the January totals, requests and new plans of the test years: **{mape:.1f}%**. "
             f"Observed value inside the simulated 90% interval: {inside} of {len(test)} test targets.\n\n"
             "Money is only published for 2017-18 and 2018-19: with nothing to fit up to 2017 the central spend and opening balance stay as in the config, "
             "so the money rows are not out of sample if the config was calibrated to 2019.\n\n" + markdown_table(test) + "\n")
    write_report(result, observed, out_dir, f"Backtest: {Path(config).stem} fitted to {fit_until}, tested on {fit_until + 1}-{last}", Path(config).name, extra)
    test.to_csv(out_dir / "backtest.csv", index=False)
    click.echo(f"wrote {out_dir}: backtest.csv, fit_report.md; MAPE {mape:.1f}% on {fit_until + 1}-{last} (totals, requests, new plans); "
               f"{inside} of {len(test)} observed values inside the 90% interval")


def _rolling(config: str, data_dir: str, origins: str, replications: int, max_evaluations: int, report_replications: int, workers: int | None, out: str | None) -> None:
    """`hnsim backtest --origins`: the rolling-origin backtest of one config (experiment/rolling.py)."""
    from hnsim import api
    from hnsim.cli.skill import echo_headline, origins_option
    from hnsim.config import ConfigError
    from hnsim.data.errors import DataError
    from hnsim.experiment.rolling import RollingDesign, RollingMismatch

    _prepare(config, data_dir)  # exit 2 on a bad config or observed directory
    out_dir = Path(out) if out else Path("results") / f"{Path(config).stem}-rolling"
    design = RollingDesign(Path(config), Path(data_dir), origins_option(origins), report_replications, replications, max_evaluations)
    try:
        result = api.backtest_rolling(design, out_dir, workers, progress=True)
    except (RollingMismatch, ConfigError, DataError) as exc:
        fail_input(exc.problems)
    except KeyboardInterrupt:
        click.echo(f"interrupted: the origins written are kept in {out_dir}; rerun the same command to finish", err=True)
        sys.exit(130)
    m = result.manifest
    click.echo(f"wrote {out_dir}: {m['tasks_done']} of {m['tasks']} origins, {m['replications']} replications each, {m['wall_seconds']} s")
    if m.get("fixed_after_origin"):
        click.echo("note: calibrated to later years and not freed, so kept at every origin: " + ", ".join(m["fixed_after_origin"]), err=True)
    echo_headline(result, out_dir)
    if len(result.failures):
        for row in result.failures.itertuples(index=False):
            click.echo(f"  {row.key}, {row.stage}: {row.error}", err=True)
        sys.exit(1)

"""`hnsim forecast`: a run's forecast of the figures DfE publishes, with the model discrepancy."""

from __future__ import annotations

import click

from hnsim import api
from hnsim.cli.common import main, reported


@main.command("forecast")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Observed series (docs/data.md) whose last published values the forecast starts from, e.g. data/gloucestershire.")
@click.option("--sen2", "sen2_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="DfE's SEN2 files for every authority, from which the model discrepancy's yearly steps are drawn (docs/validation.md); without them the forecast is anchored only and its bands lack the structural error.")
@click.option("--scenario", default=None, help="Scenario of a comparison directory to forecast (default: its base).")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Output directory (default: RUN_DIR/forecast).")
def forecast_command(run_dir: str, data_dir: str, sen2_dir: str | None, scenario: str | None, out: str | None) -> None:
    """Forecast the published SEN2 figures from RUN_DIR's replications: each anchored on the last
    published value in --data and given the model discrepancy; writes forecast.csv, a figure and
    its caption."""
    with reported():
        result = api.forecast(run_dir, data_dir, sen2_dir, out, scenario)
    click.echo(f"wrote {result.out_dir}: forecast.csv, figures/forecast.png/.svg/.csv, figures.md; from the January {result.origin} census, "
               f"{result.members} replications")
    click.echo("  EHCPs, January: " + api.forecast_headline(result.table))
    for note in result.notes:
        click.echo(f"note: {note}", err=True)

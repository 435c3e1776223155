"""`hnsim init` (a starter config for any local authority) and `hnsim observed` (its observed series), from DfE's SEN2 files."""

from __future__ import annotations

import sys

import click

from hnsim import api
from hnsim.cli.common import EXIT_FAILED, fail_input, main, reported


@main.command("init")
@click.option("--la", "la", required=True, help="Local authority: name (e.g. 'Gloucestershire'), new code (E10000013) or old code (916).")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Directory of DfE's SEN2 release files.")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Config file to write (default: configs/<authority>.yaml).")
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def init_command(la: str, data_dir: str, out: str | None, force: bool) -> None:
    """Write a starter config for a local authority from its SEN2 figures."""
    with reported():
        starter = api.init_config(la, data_dir, out, force)
    if starter.problems:  # a fault in the starter, not in the user's input
        for line in starter.problems:
            click.echo(f"error: {line}", err=True)
        click.echo(f"error: the starter config written to {starter.path} does not validate; please report this", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"wrote {starter.path}: starter config for {starter.authority.label}; it validates (hnsim check {starter.path})")
    click.echo("warning: these money inputs are NOT in SEN2 and were scaled from Gloucestershire by caseload; replace them with the authority's own figures:", err=True)
    for line in starter.warnings:
        click.echo(f"warning:   {line}", err=True)


@main.command("observed")
@click.option("--la", "la", default=None, help="Local authority: name, new code or old code.")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Directory of DfE's SEN2 release files.")
@click.option("--out", default=None, type=click.Path(file_okay=True), help="Directory to write caseload.csv and activity.csv (default: data/<authority>/).")
@click.option("--list", "list_all", is_flag=True, help="List every local authority in the files instead.")
def observed_command(la: str | None, data_dir: str, out: str | None, list_all: bool) -> None:
    """Write an authority's observed caseload and activity series (tidy CSV) from the SEN2 files."""
    with reported():
        if list_all:
            for auth in api.list_authorities(data_dir):
                extra = f"; {auth.note}" if auth.note else (f"; succeeded by {', '.join(auth.successors)}" if auth.successors else "")
                click.echo(f"{auth.label}  {auth.region_name}  {auth.first_year}-{auth.last_year}{extra}")
            return
        if la is None:
            fail_input(["give --la NAME (or --list to see every authority)"])
        written = api.write_observed(data_dir, la, out)
    click.echo(f"wrote {', '.join(str(p) for p in written.paths)} for {written.authority.label}")

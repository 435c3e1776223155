"""`hnsim init` (a starter config for any local authority) and `hnsim observed` (its observed series), from DfE's SEN2 files."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from hnsim.cli.common import fail_input, main
from hnsim.config import ConfigError, load_config
from hnsim.data import DataError


def slug(name: str) -> str:
    """A file-friendly name for an authority: 'Bournemouth, Christchurch and Poole' -> 'bournemouth-christchurch-and-poole'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@main.command("init")
@click.option("--la", "la", required=True, help="Local authority: name (e.g. 'Gloucestershire'), new code (E10000013) or old code (916).")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Directory of DfE's SEN2 release files.")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Config file to write (default: configs/<authority>.yaml).")
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def init_command(la: str, data_dir: str, out: str | None, force: bool) -> None:
    """Write a starter config for a local authority from its SEN2 figures."""
    from hnsim.data.sen2 import find_authority
    from hnsim.data.starter import write_starter

    try:
        auth = find_authority(data_dir, la)
        path = Path(out) if out else Path("configs") / f"{slug(auth.name)}.yaml"
        if path.exists() and not force:
            fail_input([f"{path}: already exists; choose another --out or add --force to overwrite it"])
        path, warnings = write_starter(data_dir, la, path)
    except DataError as exc:
        fail_input(exc.problems)
    try:
        load_config(path)
    except ConfigError as exc:  # a bug in the starter, not the user's input
        for line in exc.problems:
            click.echo(f"error: {line}", err=True)
        click.echo(f"error: the starter config written to {path} does not validate; please report this", err=True)
        sys.exit(1)
    click.echo(f"wrote {path}: starter config for {auth.label}; it validates (hnsim check {path})")
    click.echo("warning: these money inputs are NOT in SEN2 and were scaled from Gloucestershire by caseload; replace them with the authority's own figures:", err=True)
    for line in warnings:
        click.echo(f"warning:   {line}", err=True)


@main.command("observed")
@click.option("--la", "la", default=None, help="Local authority: name, new code or old code.")
@click.option("--data", "data_dir", required=True, type=click.Path(file_okay=False), help="Directory of DfE's SEN2 release files.")
@click.option("--out", default=None, type=click.Path(file_okay=True), help="Directory to write caseload.csv and activity.csv (default: data/<authority>/).")
@click.option("--list", "list_all", is_flag=True, help="List every local authority in the files instead.")
def observed_command(la: str | None, data_dir: str, out: str | None, list_all: bool) -> None:
    """Write an authority's observed caseload and activity series (tidy CSV) from the SEN2 files."""
    from hnsim.data.sen2 import find_authority, list_authorities
    from hnsim.data.series import write_observed

    try:
        if list_all:
            for auth in list_authorities(data_dir):
                extra = f"; {auth.note}" if auth.note else (f"; succeeded by {', '.join(auth.successors)}" if auth.successors else "")
                click.echo(f"{auth.label}  {auth.region_name}  {auth.first_year}-{auth.last_year}{extra}")
            return
        if la is None:
            fail_input(["give --la NAME (or --list to see every authority)"])
        auth = find_authority(data_dir, la)
        target = Path(out) if out else Path("data") / slug(auth.name)
        if target.exists() and not target.is_dir():
            fail_input([f"{target}: is a file; --out must be a directory"])
        paths = write_observed(data_dir, auth, target)
    except DataError as exc:
        fail_input(exc.problems)
    click.echo(f"wrote {', '.join(str(p) for p in paths)} for {auth.label}")

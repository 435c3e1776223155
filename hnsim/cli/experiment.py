"""`hnsim experiment`: run a question of the strategy defined in ``experiments/``."""

from __future__ import annotations

import click

from hnsim.cli.common import fail_input, main
from hnsim.config import ConfigError


@main.command("experiment")
@click.argument("experiment_file", type=click.Path(dir_okay=False))
@click.option("--replications", "-n", type=click.IntRange(min=1), default=None, help="Override the experiment's replications.")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None, help="Local processes (default: all cores).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def experiment_command(ctx: click.Context, experiment_file: str, replications: int | None, workers: int | None, quiet: bool) -> None:
    """Run EXPERIMENT_FILE (a question, and the run, comparison, sweep or goal-seek that answers it)."""
    from hnsim.cli.compare import compare_command
    from hnsim.cli.report import report_command
    from hnsim.cli.run import run_command
    from hnsim.cli.sweep import seek_command, sweep_command
    from hnsim.experiment.definition import load_experiment

    try:
        experiment, folder = load_experiment(experiment_file)
    except ConfigError as exc:
        fail_input(exc.problems)
    click.echo(f"question: {experiment.question}")
    n = replications or experiment.replications
    out = str(folder / experiment.out)
    base = str(folder / experiment.base) if experiment.base else None
    overlays = tuple(str(folder / s) for s in experiment.scenarios)
    if experiment.kind == "run":
        ctx.invoke(run_command, config=base, replications=n, seed=None, workers=workers, out=out, overlays=overlays, quiet=quiet)
    elif experiment.kind == "compare":
        ctx.invoke(compare_command, base=base, scenarios=overlays, replications=max(n or 20, 2), seed=None, workers=workers, out=out, quiet=quiet)
    elif experiment.kind == "sweep":
        ctx.invoke(sweep_command, sweep_file=str(folder / experiment.sweep), out=out, workers=workers, scheduler=None, local_dask=False, quiet=quiet)
    else:
        s = experiment.seek
        ctx.invoke(
            seek_command, config=base, path=s.parameter, low=s.low, high=s.high, metric=s.metric, year=s.year, target=s.target,
            direction=s.direction, confidence=s.confidence, replications=n, seed=None, integer=s.integer, tolerance=None,
            workers=workers, scheduler=None, out=out, overlays=overlays,
        )
    if experiment.report and experiment.kind != "seek":
        ctx.invoke(report_command, run_dir=out, formats="md,html,docx", observed=None, year=None, out=None)

"""Same seed, same results: a sweep on a real Dask cluster equals the same sweep on local processes."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from hnsim.experiment.executors import ExecutorError, open_pool
from hnsim.experiment.sweep import run_sweep
from hnsim.experiment.sweep_file import load_sweep

from test_sweep import assert_same_sweep, write_sweep

distributed = pytest.importorskip("distributed")


def test_dask_equals_local_processes(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, design={"kind": "grid"}, replications=2), check_metrics=False)
    with open_pool(1) as pool:
        local = run_sweep(sweep, tmp_path / "local", pool)
    cluster = distributed.LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with open_pool(2, scheduler=cluster.scheduler_address) as pool:
            assert "Dask scheduler" in pool.description and pool.workers == 2
            dask = run_sweep(sweep, tmp_path / "dask", pool)
    finally:
        cluster.close()
    assert dask.manifest["status"] == local.manifest["status"] == "complete"
    assert len(local.design.points) == 8
    assert_same_sweep(tmp_path / "dask", tmp_path / "local")
    assert_frame_equal(dask.outcomes, local.outcomes)
    assert not pd.read_parquet(tmp_path / "dask" / "outcome_replications.parquet").empty


def test_unreachable_scheduler_is_bad_input():
    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler"):
        with open_pool(1, scheduler="tcp://127.0.0.1:9", connect_timeout="1s"):
            pass


def test_workers_without_hnsim_are_one_clear_error():
    """The model is imported on every Dask worker when the pool opens; a worker that cannot import it
    is named as bad input there, not as a failed replication later."""
    from hnsim.experiment.executors import _import_on_workers

    class WorkersWithoutHnsim:
        def run(self, function, *args):
            raise ModuleNotFoundError("No module named 'hnsim'")

    with pytest.raises(ExecutorError, match="tcp://10.0.0.1:8786's workers cannot import hnsim.*install hnsim"):
        _import_on_workers(WorkersWithoutHnsim(), "tcp://10.0.0.1:8786")


def test_local_dask_workers_allocate_as_local_processes_do():
    """The local cluster's workers start without the nanny's MALLOC_TRIM_THRESHOLD_ (which slows the
    model's allocations), even after an earlier nanny wrote it into this process's environment; the
    nanny's other settings are kept, and this process's environment is left as it was."""
    import os

    os.environ["MALLOC_TRIM_THRESHOLD_"] = "65536"  # as an earlier nanny in this process leaves it
    with open_pool(1, local_dask=True) as pool:
        future = pool.executor.submit(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS")))
        trim, omp = future.result()
    assert trim is None
    assert omp == "1"
    assert os.environ.pop("MALLOC_TRIM_THRESHOLD_") == "65536"

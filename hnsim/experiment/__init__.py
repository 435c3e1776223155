"""Everything that runs the model: runs, comparisons, sweeps, goal-seeks, calibration, national
runs and re-costing, and the executors they run on (local processes or Dask)."""

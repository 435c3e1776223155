"""Experiments: seeds, replications, executors and result stores."""

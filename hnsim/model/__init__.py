"""The simulation model: SimPy processes and resources, no file I/O."""

from hnsim.model.metrics import annual_metrics
from hnsim.model.parameters import Parameters, compile_parameters
from hnsim.model.pathway import PathwayModel, simulate

__all__ = ["Parameters", "PathwayModel", "annual_metrics", "compile_parameters", "simulate"]

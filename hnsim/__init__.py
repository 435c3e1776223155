"""hnsim: simulate SEND provision and the High Needs Block for an English local authority."""

__version__ = "0.1.0"

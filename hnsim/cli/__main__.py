"""``python -m hnsim.cli``."""

from hnsim.cli import main

main()

"""Node types: one folder each, holding ``config.py`` (the node's data) and ``run.py``."""

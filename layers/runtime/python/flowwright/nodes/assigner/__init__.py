"""assigner node."""

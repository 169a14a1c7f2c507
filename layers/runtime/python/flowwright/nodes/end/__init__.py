"""end node."""

"""start node."""

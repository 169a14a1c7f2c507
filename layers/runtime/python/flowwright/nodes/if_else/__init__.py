"""if-else node."""

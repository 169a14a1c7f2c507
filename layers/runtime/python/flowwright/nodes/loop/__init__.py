"""loop node."""

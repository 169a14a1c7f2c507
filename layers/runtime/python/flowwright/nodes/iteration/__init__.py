"""iteration node."""

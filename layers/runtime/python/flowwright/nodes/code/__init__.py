"""code node."""

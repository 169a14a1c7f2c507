"""answer node."""

"""template-transform node."""

"""variable-aggregator node."""

"""knowledge-retrieval node."""

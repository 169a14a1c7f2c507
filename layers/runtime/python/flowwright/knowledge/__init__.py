"""Knowledge bases: extract -> clean -> chunk -> embed -> index, and retrieval."""

"""llm node."""

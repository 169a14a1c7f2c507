"""flowwright: Dify-style LLM apps on AWS serverless (Step Functions + Lambda)."""

__version__ = "0.1.0"
__all__ = ["__version__"]

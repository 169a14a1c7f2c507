"""What each Lambda layer holds. Versions follow pyproject.toml; boto3/botocore never ship
(the Lambda runtime has them)."""

from __future__ import annotations

__all__ = ["LAYERS", "NEVER_SHIP"]

#: Dependency layers by name; functions take only the layers their imports need.
LAYERS: dict[str, list[str]] = {
    "core": ["pydantic>=2.7,<3", "pyyaml>=6", "jinja2>=3.1", "aws-lambda-powertools>=3.0,<4"],
    "models": ["litellm==1.110.2"],
}

#: Packages removed from every layer: the Lambda runtime provides them.
NEVER_SHIP = ("boto3", "botocore", "s3transfer")

"""What each Lambda layer holds. Versions follow pyproject.toml; boto3/botocore never ship
(the Lambda runtime has them)."""

from __future__ import annotations

__all__ = ["LAYERS", "NEVER_SHIP", "UNUSED"]

#: Dependency layers by name; functions take only the layers their imports need.
LAYERS: dict[str, list[str]] = {
    "core": ["pydantic>=2.7,<3", "pyyaml>=6", "jinja2>=3.1", "aws-lambda-powertools>=3.0,<4"],
    "models": ["litellm==1.110.2"],
    # extraction (pypdf + cryptography for AES-encrypted PDFs) and the OpenSearch client
    "knowledge": [
        "pypdf==7.1.1",
        "cryptography>=43",
        "charset-normalizer>=3.3",
        "opensearch-py==3.2.0",
        "python-dateutil>=2.8,<3",  # botocore (from the runtime) needs < 3
    ],
    "api": ["fastapi==0.165.0", "uvicorn==0.54.0", "python-multipart==0.0.20"],
}

#: Packages removed from every layer: the Lambda runtime provides them.
NEVER_SHIP = ("boto3", "botocore", "s3transfer")
#: Dependencies no function imports at run time (opensearch-py 3 pulls its gRPC transport:
#: ~20 MiB of grpcio and protobuf that the HTTP client never loads).
UNUSED = ("grpc", "grpcio", "opensearch_protobufs", "protobuf")

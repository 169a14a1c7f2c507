"""Lambda layers: the flowwright library, and dependency layers built offline by pip."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import AssetHashType, BundlingOptions, DockerImage
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.bundling import PYTHON_VERSION, PipLayerBundling, layer_digest
from stacks.requirements import LAYERS

__all__ = ["Layers"]

ROOT = Path(__file__).resolve().parents[1]
#: Which dependency layers each function needs beyond ``core`` (node types and services).
EXTRA_LAYERS = {
    "llm": ["models"],
    "knowledge_retrieval": ["models", "knowledge"],
    "ingest": ["models", "knowledge"],
    "search_setup": ["knowledge"],
    "api": ["api"],
}


class Layers(Construct):
    """``runtime`` (the library) plus one layer per entry of ``stacks.requirements.LAYERS``."""

    def __init__(self, scope: Construct, construct_id: str, *, runtime: lambda_.Runtime) -> None:
        super().__init__(scope, construct_id)
        self.runtime = lambda_.LayerVersion(
            self,
            "runtime",
            code=lambda_.Code.from_asset(
                str(ROOT / "layers" / "runtime"), exclude=["**/__pycache__", "**/*.pyc"]
            ),
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="flowwright runtime library",
        )
        self.dependencies: dict[str, lambda_.LayerVersion] = {}
        for name, requirements in LAYERS.items():
            digest = layer_digest(requirements)
            self.dependencies[name] = lambda_.LayerVersion(
                self,
                name,
                code=lambda_.Code.from_asset(
                    str(ROOT / "layers" / "deps"),
                    asset_hash=digest,
                    asset_hash_type=AssetHashType.CUSTOM,
                    bundling=BundlingOptions(
                        image=DockerImage.from_registry(
                            f"public.ecr.aws/sam/build-python{PYTHON_VERSION}"
                        ),
                        command=[
                            "bash",
                            "-c",
                            "pip install -t /asset-output/python "
                            + " ".join(f"'{r}'" for r in requirements),
                        ],
                        local=PipLayerBundling(requirements),
                    ),
                ),
                compatible_runtimes=[runtime],
                compatible_architectures=[lambda_.Architecture.ARM_64],
                description=f"flowwright dependencies: {name}",
            )

    def for_function(self, key: str) -> list[lambda_.ILayerVersion]:
        """The layers a function's imports need (node type or service name), nothing more."""
        names = ["core", *EXTRA_LAYERS.get(key, [])]
        return [self.runtime, *(self.dependencies[n] for n in names)]

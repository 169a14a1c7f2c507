"""Load and validate Dify DSL apps."""

from flowwright.dsl.loader import load_app, load_app_text
from flowwright.dsl.models import App, ConversationVariable, Edge, EnvVariable, Node

__all__ = [
    "App",
    "ConversationVariable",
    "Edge",
    "EnvVariable",
    "Node",
    "load_app",
    "load_app_text",
]

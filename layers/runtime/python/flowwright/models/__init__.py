"""Models: the map from Dify provider/model names to litellm, the gateway, local models."""

"""The Dify-compatible Service API: one ASGI app served locally and in Lambda."""

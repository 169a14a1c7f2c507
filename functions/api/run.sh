#!/bin/bash
# The Lambda Web Adapter (layer, AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) starts this script and
# forwards each invocation to uvicorn as HTTP, streaming the response back.
exec python -m uvicorn flowwright.api.asgi:app --host 127.0.0.1 --port "${PORT:-8080}" --no-access-log

"""The HTTP API: routers under ``hub.api.routes`` and problem+json error handling."""

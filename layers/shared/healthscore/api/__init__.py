"""The HTTP API of the portal and machine callers (README: the HTTP API; openapi.json)."""

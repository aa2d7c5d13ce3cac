"""The HTTP API of the portal and machine callers (DESIGN.md section 6)."""

"""Bearer-token authentication of the HTTP API: JWKS, token verification, the principal."""

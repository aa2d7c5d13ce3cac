"""The HttpApi's CorsConfiguration of the template, applied as API Gateway applies it.

API Gateway answers a CORS preflight itself (an OPTIONS request carrying `Origin` and
`Access-Control-Request-Method`: 204 with the configured `Access-Control-Allow-*` headers,
never reaching a route or the authorizer), and adds `Access-Control-Allow-Origin` to every
other answer whose request came from an allowed origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CorsSettings:
    allow_origins: frozenset[str]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and ("*" in self.allow_origins or origin in self.allow_origins)

    def preflight_headers(self, origin: str) -> dict[str, str]:
        """The answer to an allowed origin's preflight (API Gateway's answers no other origin's)."""
        headers = self.response_headers(origin)
        headers["access-control-allow-methods"] = ",".join(self.allow_methods)
        if self.allow_headers:
            headers["access-control-allow-headers"] = ",".join(self.allow_headers).lower()
        if self.max_age is not None:
            headers["access-control-max-age"] = str(self.max_age)
        return headers

    def response_headers(self, origin: str) -> dict[str, str]:
        headers = {"access-control-allow-origin": "*" if "*" in self.allow_origins else origin, "vary": "origin"}
        if self.expose_headers:
            headers["access-control-expose-headers"] = ",".join(self.expose_headers).lower()
        if self.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
        return headers


def template_cors(
    template: Mapping[str, Any], api: Mapping[str, Any], parameters: Mapping[str, str]
) -> CorsSettings | None:
    """The CorsConfiguration of the HttpApi resource `api`, its `!Ref`s resolved against `parameters`
    (then the parameters' defaults; a parameter with neither is left out); None without CORS."""
    config = api.get("Properties", {}).get("CorsConfiguration")
    if not isinstance(config, Mapping):
        return None

    def value(item: Any) -> str | None:
        if isinstance(item, Mapping) and set(item) == {"Ref"}:
            name = str(item["Ref"])
            resolved = parameters.get(name, template.get("Parameters", {}).get(name, {}).get("Default"))
            return None if resolved is None else str(resolved)
        return str(item)

    def values(key: str) -> tuple[str, ...]:
        return tuple(found for item in config.get(key, []) if (found := value(item)) is not None)

    max_age = config.get("MaxAge")
    return CorsSettings(
        allow_origins=frozenset(values("AllowOrigins")),
        allow_methods=tuple(method.upper() for method in values("AllowMethods")),
        allow_headers=values("AllowHeaders"),
        expose_headers=values("ExposeHeaders"),
        max_age=None if max_age is None else int(max_age),
        allow_credentials=bool(config.get("AllowCredentials", False)),
    )

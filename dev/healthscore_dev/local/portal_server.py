"""The reference portal (portal/ at the repository's root) served as static files on its own port.

Its own port is its own origin, as in production: every API call it makes is cross-origin and goes
through the API's CORS configuration.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.serving import ThreadedWSGIServer
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Request

PORTAL_DIR: Final = Path(__file__).resolve().parents[3] / "portal"


def portal_app(directory: Path = PORTAL_DIR) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """A WSGI app serving `directory`'s files (index.html at /), GET and HEAD only, never outside it."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        try:
            if request.method not in ("GET", "HEAD"):
                raise MethodNotAllowed(["GET", "HEAD"])
            path = request.path.lstrip("/") or "index.html"
            response = send_from_directory(directory, path, environ, max_age=0)
        except HTTPException as refused:
            return refused(environ, start_response)
        return response(environ, start_response)

    return app


class PortalServer(ThreadedWSGIServer):
    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def start_portal(port: int, directory: Path = PORTAL_DIR) -> PortalServer:
    """Serve the portal on 127.0.0.1:`port` (0: any free port) in a daemon thread."""
    server = PortalServer("127.0.0.1", port, portal_app(directory))
    threading.Thread(target=server.serve_forever, args=(0.1,), name=f"portal-{port}", daemon=True).start()
    return server

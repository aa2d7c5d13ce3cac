"""No bearer token, DATABASE_URL password or secret value in any log line of a whole run.

A nightly run and a served API session run as real processes with a DATABASE_URL that
carries a password and with tokens (good, refused, and hostile) sent to the API; then every
line they printed and every log file under the local folder is searched for each secret.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
from local_serve import call, healthscore, local_serve, mint, serve_environment
from psycopg import sql

from healthscore.dal.connection import DbConnection

PASSWORD = "Pa55-w0rd-only-in-the-url-7Q"  # the secret the test looks for
USER = "healthscore_secret_user"


def secret_url(conn: DbConnection, database_url: str) -> str:
    """DATABASE_URL for a role with a password (the server may trust the socket: the URL still carries it)."""
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(sql.Identifier(USER), PASSWORD))
    return psycopg.conninfo.make_conninfo(database_url, user=USER, password=PASSWORD)


def everything_logged(local_dir: Path, *printed: str) -> str:
    files = [path.read_text(errors="replace") for path in local_dir.rglob("*.log")]
    return "\n".join([*printed, *files])


def test_no_secret_reaches_a_log_line(conn: DbConnection, database_url: str, tmp_path: Path) -> None:
    url = secret_url(conn, database_url)
    environment = serve_environment(url, tmp_path)
    nightly = healthscore(
        "run", "nightly", "--tenants", "12", env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    nightly_output, _ = nightly.communicate(timeout=300)
    assert nightly.returncode == 0, nightly_output

    tokens = {role: mint(role, environment) for role in ("CLIENT_SUCCESS", "PLATFORM_ADMIN")}
    forged = tokens["PLATFORM_ADMIN"][:-6] + "AAAAAA"  # a bad signature: refused, must not be logged either
    with local_serve(environment, tmp_path / "serve.log") as base_url:
        assert call(f"{base_url}/scores", token=tokens["CLIENT_SUCCESS"])[0] == 200
        assert call(f"{base_url}/calculate-all", token=tokens["CLIENT_SUCCESS"], method="POST")[0] == 403
        assert call(f"{base_url}/calculate-all", token=tokens["PLATFORM_ADMIN"], method="POST")[0] == 202
        assert call(f"{base_url}/scores", token=forged)[0] == 403
        assert call(f"{base_url}/scores/not-a-uuid", token=tokens["CLIENT_SUCCESS"])[0] == 422

    logged = everything_logged(tmp_path, nightly_output)
    assert "nightly pipeline finished" in logged  # the capture holds the run
    assert "GET /api/v1/internal/client-health/scores" in logged  # and the served requests
    assert PASSWORD not in logged
    for token in [*tokens.values(), forged]:
        _header, payload, signature = token.split(".")
        assert token not in logged
        assert payload not in logged
        assert signature not in logged

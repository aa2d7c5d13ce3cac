"""No bearer token, DATABASE_URL password or secret value in any log line of a whole run.

A nightly run and a served API session run as real processes with a DATABASE_URL that
carries a password and with tokens (good, refused, and hostile) sent to the API; then every
line they printed and every log file under the local folder is searched for each secret.
The same at DEBUG with the password in Secrets Manager (DB_SECRET_ARN, moto's server), the
root logger set as Lambda's runtime sets it: botocore would log GetSecretValue's response.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import psycopg
from local_serve import call, healthscore, local_serve, mint, serve_environment
from psycopg import sql

from healthscore.dal.connection import DbConnection

PASSWORD = "Pa55-w0rd-only-in-the-url-7Q"  # the secret the test looks for
SECRET_PASSWORD = "Pa55-w0rd-only-in-the-secret-9Z"
USER = "healthscore_secret_user"
EVENTS = Path(__file__).resolve().parents[2] / "events"
# A cold start of the api function as Lambda's runtime makes it: the root logger at the function's level
# (DEBUG) with a handler, before the function's module is imported; then one request.
API_REQUEST = """
import json, logging, sys
logging.getLogger().setLevel(logging.DEBUG)
logging.getLogger().addHandler(logging.StreamHandler(sys.stdout))
from healthscore_dev.local.handlers import load_handler
from healthscore_dev.local.lambda_context import LocalLambdaContext
response = load_handler("api").lambda_handler(json.load(sys.stdin), LocalLambdaContext("ApiFunction"))
print("status", response["statusCode"], response["body"])
"""


def password_role(conn: DbConnection, user: str, password: str) -> None:
    """A role with a password (the server may trust the socket: the password is sent all the same)."""
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(sql.Identifier(user), password))


def secret_url(conn: DbConnection, database_url: str) -> str:
    """DATABASE_URL for a role with a password."""
    password_role(conn, USER, PASSWORD)
    return psycopg.conninfo.make_conninfo(database_url, user=USER, password=PASSWORD)


def secret_environment(conn: DbConnection, database_url: str, endpoint: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a function reading its database credentials from Secrets Manager, at DEBUG."""
    user = f"{USER}_{tmp_path.name[-12:]}".lower().replace("-", "_")
    password_role(conn, user, SECRET_PASSWORD)
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    secret = {"host": info["host"], "port": info.get("port", 5432), "dbname": info["dbname"]}
    credentials = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=endpoint,
        region_name=credentials["AWS_DEFAULT_REGION"],
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
    )
    arn = secrets.create_secret(
        Name=f"db-{user}", SecretString=json.dumps({**secret, "username": user, "password": SECRET_PASSWORD})
    )["ARN"]
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "DATABASE_URL"))}
    return (
        environment
        | credentials
        | {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
            "DB_SECRET_ARN": arn,
            "LOG_LEVEL": "DEBUG",
            "HEALTHSCORE_LOCAL_DIR": str(tmp_path),
        }
    )


def test_a_request_reading_the_secret_at_debug_logs_no_password(
    conn: DbConnection, database_url: str, sqs_endpoint: str, tmp_path: Path
) -> None:
    environment = secret_environment(conn, database_url, sqs_endpoint, tmp_path)
    request = subprocess.run(
        [sys.executable, "-c", API_REQUEST],
        input=(EVENTS / "api_get_scores.json").read_text(),
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    logged = request.stdout + request.stderr
    assert request.returncode == 0, logged[-3000:]
    assert "status 200" in logged  # the request read the secret and reached the database
    assert "Found endpoint for secretsmanager" in logged  # the SDK's records reach the handler (at INFO)
    assert SECRET_PASSWORD not in logged


def test_a_local_nightly_at_debug_with_the_secret_logs_no_password(
    conn: DbConnection, database_url: str, sqs_endpoint: str, tmp_path: Path
) -> None:
    environment = secret_environment(conn, database_url, sqs_endpoint, tmp_path)
    nightly = healthscore(
        "run", "nightly", "--tenants", "12", env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output, _ = nightly.communicate(timeout=300)
    assert nightly.returncode == 0, output[-3000:]
    logged = everything_logged(tmp_path, output)
    assert "nightly pipeline finished" in logged
    assert "Found endpoint for secretsmanager" in logged  # the secret was read, the SDK's records reach a handler
    assert SECRET_PASSWORD not in logged


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

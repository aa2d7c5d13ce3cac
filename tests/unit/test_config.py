"""Configuration (the README's configuration table): bad values fail at start-up naming the variable."""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from healthscore.config import ConfigError, Settings, get_settings, load_settings
from healthscore.core.weights import HEALTH_WEIGHTS
from healthscore.dal.connection import connection_info

SETTINGS_VARS = (
    "DATABASE_URL",
    "DB_SECRET_ARN",
    "SCORING_QUEUE_URL",
    "DEAD_LETTER_QUEUE_URL",
    "FANOUT_FUNCTION_NAME",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_JWKS_URL",
    "JWT_JWKS_JSON",
    "ROLES_CLAIM",
    "IAM_ROLE_MAP",
    "HEALTH_WEIGHTS",
    "RISK_EVENT_BUS_NAME",
    "DB_CONNECT_TIMEOUT",
    "DB_STATEMENT_TIMEOUT_MS",
    "DB_SSLMODE",
    "DB_SSLROOTCERT",
    "DB_PROXY",
    "DB_HOST",
)
VALID_WEIGHTS = {
    "login": 0.4,
    "caseResolution": 0.2,
    "campaignCompletion": 0.2,
    "featureAdoption": 0.1,
    "supportTickets": 0.1,
}
PASSWORD = "s3cr3t-Pa55"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No setting from the outer environment; the cached settings are re-read per test."""
    for name in SETTINGS_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def config_error(monkeypatch: pytest.MonkeyPatch, **env: str) -> ConfigError:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    with pytest.raises(ConfigError) as excinfo:
        get_settings()
    return excinfo.value


# --- defaults --------------------------------------------------------------------------------------


def test_defaults_when_unset() -> None:
    settings = get_settings()
    assert settings.health_weights == HEALTH_WEIGHTS
    assert settings.health_weights.of() == {
        "login": Decimal("0.30"),
        "caseResolution": Decimal("0.25"),
        "campaignCompletion": Decimal("0.20"),
        "featureAdoption": Decimal("0.15"),
        "supportTickets": Decimal("0.10"),
    }
    assert settings.roles_claim == "roles"
    assert settings.iam_role_map == {}
    assert settings.roles_for_principal("arn:aws:sts::123456789012:assumed-role/anything/session") == frozenset()
    assert settings.risk_event_bus_name is None
    assert settings.database_url is None


def test_settings_are_read_once_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLES_CLAIM", "cognito:groups")
    first = get_settings()
    assert first.roles_claim == "cognito:groups"
    monkeypatch.setenv("ROLES_CLAIM", "other")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().roles_claim == "other"


def test_valid_weights_override_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_WEIGHTS", json.dumps(VALID_WEIGHTS))
    weights = get_settings().health_weights
    # JSON numbers become exact decimals, so 0.4 + 0.2 + 0.2 + 0.1 + 0.1 is exactly 1
    assert weights.of() == {name: Decimal(str(value)) for name, value in VALID_WEIGHTS.items()}


def test_weights_given_as_decimal_strings_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_WEIGHTS", json.dumps({name: str(value) for name, value in VALID_WEIGHTS.items()}))
    assert get_settings().health_weights.login == Decimal("0.4")


# --- HEALTH_WEIGHTS --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "detail"),
    [
        ({**VALID_WEIGHTS, "login": 0.5}, "sum to 1"),  # sums to 1.1
        ({**VALID_WEIGHTS, "login": 0.3}, "sum to 1"),  # sums to 0.9
        ({"login": 0.5}, "sum to 1"),  # the others default: 1.2
        ({**VALID_WEIGHTS, "login": -0.1, "caseResolution": 0.7}, "greater than or equal to 0"),  # negative
        ({**VALID_WEIGHTS, "logins": 0.0}, "Extra inputs are not permitted"),  # unknown key
        ({**VALID_WEIGHTS, "login": "heavy"}, "decimal"),
    ],
)
def test_bad_weights_fail_naming_health_weights(
    monkeypatch: pytest.MonkeyPatch, weights: dict[str, object], detail: str
) -> None:
    error = config_error(monkeypatch, HEALTH_WEIGHTS=json.dumps(weights))
    assert "HEALTH_WEIGHTS" in str(error)
    assert detail in str(error)


def test_a_negative_weight_names_the_component(monkeypatch: pytest.MonkeyPatch) -> None:
    error = config_error(
        monkeypatch, HEALTH_WEIGHTS=json.dumps({**VALID_WEIGHTS, "login": -0.1, "caseResolution": 0.7})
    )
    assert "HEALTH_WEIGHTS[login]" in str(error)


def test_an_unknown_weight_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    error = config_error(monkeypatch, HEALTH_WEIGHTS=json.dumps({**VALID_WEIGHTS, "logins": 0}))
    assert "HEALTH_WEIGHTS[logins]" in str(error)


@pytest.mark.parametrize("value", ["not json", "{'login': 0.3}", '{"login": 0.3,'])
def test_weights_that_are_not_json_fail_naming_health_weights(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    error = config_error(monkeypatch, HEALTH_WEIGHTS=value)
    assert "HEALTH_WEIGHTS" in str(error)
    assert "JSON" in str(error)


@pytest.mark.parametrize("value", ["[0.3, 0.25, 0.2, 0.15, 0.1]", "1", '"0.3"'])
def test_weights_that_are_json_but_not_an_object_fail(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert "HEALTH_WEIGHTS" in str(config_error(monkeypatch, HEALTH_WEIGHTS=value))


def test_weights_where_every_scored_component_could_weigh_nothing_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    zero_always_present = {**VALID_WEIGHTS, "login": 0, "supportTickets": 0, "caseResolution": 0.7}
    error = config_error(monkeypatch, HEALTH_WEIGHTS=json.dumps(zero_always_present))
    assert "HEALTH_WEIGHTS" in str(error)


# --- DATABASE_URL ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "not a url",
        f"postgresql://app:{PASSWORD}@[::1/healthscore",  # unterminated IPv6 host
        f"postgresql://app:{PASSWORD}@db.internal/healthscore?sslmod=require",  # unknown parameter
        f"host=db.internal password={PASSWORD} dbname",  # conninfo with a dangling key
    ],
)
def test_an_unparsable_database_url_fails_naming_it_without_leaking_the_password(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    error = config_error(monkeypatch, DATABASE_URL=value)
    assert "DATABASE_URL" in str(error)
    assert PASSWORD not in str(error)
    # nor anywhere in what a handler's crash would log
    assert PASSWORD not in "".join(traceback.format_exception(error))


@pytest.mark.parametrize(
    "value", ["postgresql://app:pw@db.internal:5432/healthscore?sslmode=require", "host=localhost dbname=x"]
)
def test_a_valid_database_url_is_kept(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DATABASE_URL", value)
    assert get_settings().database_url == value


def test_an_empty_database_url_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "")
    assert get_settings().database_url is None


# --- IAM_ROLE_MAP ----------------------------------------------------------------------------------


def test_an_unknown_role_in_the_iam_role_map_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    arn = "arn:aws:sts::123456789012:assumed-role/ops"
    error = config_error(monkeypatch, IAM_ROLE_MAP=json.dumps({arn: ["CLIENT_SUCCESS", "SUPERUSER"]}))
    assert "IAM_ROLE_MAP" in str(error)
    assert arn in str(error)
    assert "PLATFORM_ADMIN" in str(error)  # says what is allowed


@pytest.mark.parametrize(
    "value", ["not json", '{"arn:aws:sts::123456789012:assumed-role/x": "PLATFORM_ADMIN"}', '["PLATFORM_ADMIN"]']
)
def test_a_malformed_iam_role_map_fails_naming_it(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert "IAM_ROLE_MAP" in str(config_error(monkeypatch, IAM_ROLE_MAP=value))


def test_every_bad_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    error = config_error(
        monkeypatch,
        HEALTH_WEIGHTS=json.dumps({**VALID_WEIGHTS, "login": 0.9}),
        DATABASE_URL="not a url",
        IAM_ROLE_MAP=json.dumps({"arn:aws:sts::123456789012:assumed-role/x": ["ROOT"]}),
    )
    for name in ("HEALTH_WEIGHTS", "DATABASE_URL", "IAM_ROLE_MAP"):
        assert name in str(error)


def test_load_settings_raises_config_error_not_a_pydantic_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_WEIGHTS", json.dumps({"login": 2}))
    with pytest.raises(ConfigError, match=r"^invalid configuration: HEALTH_WEIGHTS"):
        load_settings()


# --- require ---------------------------------------------------------------------------------------


def test_require_names_every_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORING_QUEUE_URL", "http://localhost:5000/queue/scoring")
    settings = get_settings()
    settings.require("SCORING_QUEUE_URL")  # set: no error
    with pytest.raises(ConfigError) as excinfo:
        settings.require("SCORING_QUEUE_URL", "DATABASE_URL", "FANOUT_FUNCTION_NAME")
    message = str(excinfo.value)
    assert "DATABASE_URL" in message
    assert "FANOUT_FUNCTION_NAME" in message
    assert "SCORING_QUEUE_URL" not in message


def test_require_treats_an_empty_value_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_ISSUER", "")
    with pytest.raises(ConfigError, match="JWT_ISSUER"):
        get_settings().require("JWT_ISSUER")


# --- roles of IAM principals -----------------------------------------------------------------------


def test_roles_for_principal_matches_arn_globs_and_any_session_of_a_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "IAM_ROLE_MAP",
        json.dumps(
            {
                "arn:aws:sts::111111111111:assumed-role/portal-*": ["CLIENT_SUCCESS"],
                "arn:aws:sts::111111111111:assumed-role/portal-admin": ["PLATFORM_ADMIN"],
                "arn:aws:sts::222222222222:assumed-role/ops/nightly-*": ["PLATFORM_ADMIN"],
                "arn:aws:iam::333333333333:user/exact": ["CLIENT_SUCCESS"],
            }
        ),
    )
    settings: Settings = get_settings()
    # a key without a session matches every session of the role, as API Gateway reports the caller
    assert settings.roles_for_principal("arn:aws:sts::111111111111:assumed-role/portal-reader/i-0abc") == {
        "CLIENT_SUCCESS"
    }
    # several patterns match: the union of their roles
    assert settings.roles_for_principal("arn:aws:sts::111111111111:assumed-role/portal-admin/alice") == {
        "CLIENT_SUCCESS",
        "PLATFORM_ADMIN",
    }
    # a key with a session pattern matches those sessions only
    assert settings.roles_for_principal("arn:aws:sts::222222222222:assumed-role/ops/nightly-42") == {"PLATFORM_ADMIN"}
    assert settings.roles_for_principal("arn:aws:sts::222222222222:assumed-role/ops/bob") == frozenset()
    assert settings.roles_for_principal("arn:aws:iam::333333333333:user/exact") == {"CLIENT_SUCCESS"}
    # no match: no role (another account, another role that shares a prefix, a different case)
    assert settings.roles_for_principal("arn:aws:sts::999999999999:assumed-role/portal-reader/s") == frozenset()
    assert settings.roles_for_principal("arn:aws:sts::111111111111:assumed-role/portal/s") == frozenset()
    assert settings.roles_for_principal("arn:aws:iam::333333333333:user/exact-2") == frozenset()
    assert settings.roles_for_principal("arn:aws:sts::111111111111:assumed-role/PORTAL-reader/s") == frozenset()


def test_a_role_arn_key_which_never_matches_a_caller_fails_naming_the_form_to_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "arn:aws:iam::123456789012:role/ops-tooling"  # the form API Gateway never reports for a caller
    error = str(config_error(monkeypatch, IAM_ROLE_MAP=json.dumps({key: ["PLATFORM_ADMIN"]})))
    assert "IAM_ROLE_MAP" in error
    assert key in error
    assert "arn:aws:sts::ACCOUNT:assumed-role/ROLE" in error


# --- database connection settings ------------------------------------------------------------------

URL = f"postgresql://app:{PASSWORD}@db.internal:5432/healthscore"


def conninfo_of(url: str) -> dict[str, Any]:
    return dict(conninfo_to_dict(connection_info(url, get_settings())))


def test_connections_get_a_timeout_tls_and_a_statement_timeout_by_default() -> None:
    info = conninfo_of(URL)
    assert info["connect_timeout"] == "5"
    assert info["sslmode"] == "prefer"
    assert "sslrootcert" not in info
    assert info["options"] == "-c statement_timeout=30000"
    assert info["password"] == PASSWORD  # the URL's own parts are kept


def test_the_environment_sets_the_connection_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "3")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "5000")
    monkeypatch.setenv("DB_SSLMODE", "verify-full")
    monkeypatch.setenv("DB_SSLROOTCERT", "/opt/python/healthscore/aws/certs/global-bundle.pem")
    info = conninfo_of(URL)
    assert (info["connect_timeout"], info["sslmode"]) == ("3", "verify-full")
    assert info["sslrootcert"] == "/opt/python/healthscore/aws/certs/global-bundle.pem"
    assert info["options"] == "-c statement_timeout=5000"


def test_a_database_url_carrying_its_own_values_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_SSLMODE", "verify-full")
    monkeypatch.setenv("DB_SSLROOTCERT", "/bundle.pem")
    url = f"{URL}?connect_timeout=9&sslmode=require&sslrootcert=/mine.pem&options=-c%20statement_timeout%3D100"
    info = conninfo_of(url)
    assert (info["connect_timeout"], info["sslmode"], info["sslrootcert"]) == ("9", "require", "/mine.pem")
    assert info["options"] == "-c statement_timeout=100"


def test_connections_find_a_dead_peer_in_seconds_unless_the_url_says_otherwise() -> None:
    info = conninfo_of(URL)
    assert (info["keepalives"], info["keepalives_idle"], info["keepalives_interval"]) == ("1", "10", "2")
    assert (info["keepalives_count"], info["tcp_user_timeout"]) == ("3", "5000")
    assert conninfo_of(f"{URL}?tcp_user_timeout=30000&keepalives=0")["tcp_user_timeout"] == "30000"
    assert conninfo_of(f"{URL}?keepalives=0")["keepalives"] == "0"


def test_other_options_of_the_url_are_kept_beside_the_statement_timeout() -> None:
    assert conninfo_of(f"{URL}?options=-c%20search_path%3Dapp")["options"] == (
        "-c search_path=app -c statement_timeout=30000"
    )


def test_no_startup_options_through_rds_proxy_nor_with_no_statement_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PROXY", "true")
    assert "options" not in conninfo_of(URL)  # RDS Proxy refuses them
    monkeypatch.setenv("DB_PROXY", "false")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "0")
    get_settings.cache_clear()
    assert "options" not in conninfo_of(URL)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_SSLMODE", "verify"),
        ("DB_CONNECT_TIMEOUT", "0"),
        ("DB_CONNECT_TIMEOUT", "soon"),
        ("DB_STATEMENT_TIMEOUT_MS", "-1"),
        ("DB_PROXY", "maybe"),
    ],
)
def test_bad_connection_settings_fail_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    assert name in str(config_error(monkeypatch, **{name: value}))

"""Wiring of template.yaml: handlers, environment, queues, event source, schedules, routes, events/.

`template_routes()` is the template's route table, (method, path, auth), for tests that compare
it with the API's own route table.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    CloudFormationCustomResourceCreateModel,
    SqsModel,
)
from pydantic import ValidationError

from healthscore.api.resolver import app
from healthscore.config import Settings
from healthscore.models.messages import FanoutRequest, ScoringMessage
from healthscore_dev.local import template_settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
EVENTS_DIR = ROOT / "events"

JWT_PREFIX = "/api/v1/internal/client-health"
IAM_PREFIX = "/iam/api/v1/internal/client-health"
JWT_AUTH = "JwtAuthorizer"
IAM_AUTH = "AWS_IAM"
OPERATIONS = {
    ("GET", "/scores"),
    ("GET", "/scores/{organizationId}"),
    ("GET", "/scores/{organizationId}/history"),
    ("POST", "/scores/{organizationId}/recalculate"),
    ("PUT", "/scores/{organizationId}/override"),
    ("DELETE", "/scores/{organizationId}/override"),
    ("GET", "/scores/{organizationId}/overrides"),
    ("GET", "/summary"),
    ("GET", "/metrics/{organizationId}"),
    ("GET", "/adoption/{organizationId}"),
    ("POST", "/calculate-all"),
    ("GET", "/runs/{runId}"),
    ("GET", "/profiles"),
    ("PUT", "/profiles/{profileId}"),
    ("DELETE", "/profiles/{profileId}"),
    ("POST", "/profiles/{profileId}/preview"),
    ("POST", "/profiles/{profileId}/restate"),
}
DOCUMENTS = {("GET", "/openapi.json"), ("GET", "/swagger")}

DB = {"DATABASE_URL", "DB_SECRET_ARN"}  # one of them is set, the other is AWS::NoValue
REQUIRED_ENVIRONMENT = {
    "FanoutFunction": DB | {"SCORING_QUEUE_URL"},
    "ScorerFunction": DB | {"DEAD_LETTER_QUEUE_URL", "SCORING_QUEUE_URL", "HEALTH_WEIGHTS", "RISK_EVENT_BUS_NAME"},
    "ApiFunction": DB
    | {"SCORING_QUEUE_URL", "FANOUT_FUNCTION_NAME", "IAM_ROLE_MAP", "HEALTH_WEIGHTS", "RISK_EVENT_BUS_NAME"},
    "AuthorizerFunction": {"JWT_ISSUER", "JWT_AUDIENCE", "JWT_JWKS_URL", "ROLES_CLAIM"},
    "MigrateFunction": DB | {"SKIP_SOURCE_TABLES_MIGRATION"},
    "EventSweepFunction": DB | {"RISK_EVENT_BUS_NAME"},
}
HANDLER_DIRS = {
    "EventSweepFunction": "event_sweep",
    "FanoutFunction": "fanout",
    "ScorerFunction": "scorer",
    "ApiFunction": "api",
    "AuthorizerFunction": "authorizer",
    "MigrateFunction": "migrate",
}
# Read by the libraries: Powertools, and pydantic (PYDANTIC_DISABLE_PLUGINS: no plugin scan at cold start).
RUNTIME_VARIABLES = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
    "POWERTOOLS_TRACE_DISABLED",  # and healthscore/tracing.py: the X-Ray SDK opt-in
    "LOG_LEVEL",
    "PYDANTIC_DISABLE_PLUGINS",
}


# ------------------------------------------------------------------ loading


@cache
def load_template() -> dict[str, Any]:
    """template.yaml as the local runtime reads it (cfn-lint's decoder: !Ref, !GetAtt, ... in long form)."""
    return template_settings.load_template(TEMPLATE_PATH)


def resources(template: dict[str, Any] | None = None) -> dict[str, Any]:
    resources_: dict[str, Any] = (template or load_template())["Resources"]
    return resources_


def functions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Each AWS::Serverless::Function's properties with the Globals applied."""
    template = template or load_template()
    defaults = template.get("Globals", {}).get("Function", {})
    result = {}
    for name, resource in resources(template).items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = {**defaults, **resource["Properties"]}
        variables = {
            **defaults.get("Environment", {}).get("Variables", {}),
            **resource["Properties"].get("Environment", {}).get("Variables", {}),
        }
        properties["Environment"] = {"Variables": variables}
        result[name] = properties
    return result


def template_routes(template: dict[str, Any] | None = None) -> set[tuple[str, str, str]]:
    """(method, path, auth) of every HttpApi event; auth is the authorizer's name, "AWS_IAM" or "NONE"."""
    template = template or load_template()
    apis = {
        name: resource["Properties"]
        for name, resource in resources(template).items()
        if resource["Type"] == "AWS::Serverless::HttpApi"
    }
    routes = set()
    for function in functions(template).values():
        for event in function.get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            properties = event["Properties"]
            api = apis[properties["ApiId"]["Ref"]]
            default = api.get("Auth", {}).get("DefaultAuthorizer", "NONE")
            auth = properties.get("Auth", {}).get("Authorizer", default)
            routes.add((properties["Method"].upper(), properties["Path"], auth))
    return routes


SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"  # EventBridge Scheduler's context attribute


def scheduled(schedule_input: str, at: str = "2026-11-28T02:00:00Z") -> str:
    """A schedule's Input as the scheduler delivers it: the context attribute replaced by the time."""
    return schedule_input.replace(SCHEDULED_TIME, at)


def load_event(name: str) -> Any:
    return json.loads((EVENTS_DIR / name).read_text())


# ------------------------------------------------------------------ functions and layer


@pytest.mark.parametrize("name", sorted(HANDLER_DIRS))
def test_each_function_has_its_handler_file(name: str) -> None:
    function = functions()[name]
    code_dir = ROOT / function["CodeUri"]
    assert code_dir == ROOT / "functions" / HANDLER_DIRS[name]
    module, handler = function["Handler"].rsplit(".", 1)
    source = code_dir / f"{module}.py"
    assert source.is_file(), f"{name}: no {source.relative_to(ROOT)}"
    assert re.search(rf"^def {handler}\(", source.read_text(), re.MULTILINE), f"{source} defines no {handler}"


def test_every_function_runs_python_312_on_arm64_with_tracing_and_the_shared_layer() -> None:
    for name, function in functions().items():
        assert function["Runtime"] == "python3.12", name
        assert function["Architectures"] == ["arm64"], name
        assert function["Tracing"] == "Active", name
        assert {"Ref": "SharedLayer"} in function["Layers"], name
    assert set(functions()) == set(HANDLER_DIRS)


def test_the_shared_layer_is_built_by_sam_for_arm64_with_its_bytecode() -> None:
    layer = resources()["SharedLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "layers/shared/"
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    build = (ROOT / "layers" / "shared" / "Makefile").read_text()
    assert "build-SharedLayer:" in build
    assert "--python-version 3.12" in build
    assert "aarch64" in build
    assert "compileall" in build
    assert "--require-hashes --no-deps --requirement requirements.lock" in build  # checked: test_layer_build.py
    assert (ROOT / "layers/shared/requirements.txt").is_file()
    assert (ROOT / "layers/shared/healthscore/__init__.py").is_file()


# ------------------------------------------------------------------ environment


@pytest.mark.parametrize("name", sorted(REQUIRED_ENVIRONMENT))
def test_each_function_gets_the_settings_it_reads(name: str) -> None:
    variables = functions()[name]["Environment"]["Variables"]
    missing = REQUIRED_ENVIRONMENT[name] - set(variables)
    assert not missing, f"{name} lacks {sorted(missing)}"
    # And whatever its handler asks for by name (Settings.required / require).
    source = (ROOT / "functions" / HANDLER_DIRS[name] / "app.py").read_text()
    asked = {
        variable
        for call in re.findall(r"\brequired?\(([^)]*)\)", source)
        for variable in re.findall(r"[\"']([A-Z][A-Z0-9_]+)[\"']", call)
    }
    assert asked <= set(variables), f"{name} reads {sorted(asked - set(variables))} but the template does not set it"


def test_every_variable_set_is_a_known_setting() -> None:
    known = {field.upper() for field in Settings.model_fields} | RUNTIME_VARIABLES
    for name, function in functions().items():
        unknown = set(function["Environment"]["Variables"]) - known
        assert not unknown, f"{name} sets {sorted(unknown)}, which no code reads"


def test_the_authorizer_gets_no_database_settings() -> None:
    variables = functions()["AuthorizerFunction"]["Environment"]["Variables"]
    assert not DB & set(variables)
    assert "VpcConfig" not in functions()["AuthorizerFunction"]


def test_optional_settings_are_left_unset_rather_than_empty() -> None:
    # An empty HEALTH_WEIGHTS would not parse; an empty RISK_EVENT_BUS_NAME would name no bus.
    scorer = functions()["ScorerFunction"]["Environment"]["Variables"]
    for variable, condition in [("HEALTH_WEIGHTS", "HasHealthWeights"), ("RISK_EVENT_BUS_NAME", "HasRiskEventBus")]:
        assert scorer[variable]["Fn::If"][0] == condition
        assert scorer[variable]["Fn::If"][2] == {"Ref": "AWS::NoValue"}


# ------------------------------------------------------------------ queues and event source


def scorer_queue_event() -> dict[str, Any]:
    events = functions()["ScorerFunction"]["Events"]
    (event,) = [event["Properties"] for event in events.values() if event["Type"] == "SQS"]
    return dict(event)


def test_the_scoring_queue_outlasts_six_scorer_timeouts() -> None:
    queue = resources()["ScoringQueue"]["Properties"]
    timeout = functions()["ScorerFunction"]["Timeout"]
    window = scorer_queue_event()["MaximumBatchingWindowInSeconds"]
    assert queue["VisibilityTimeout"] >= 6 * timeout + window


def test_the_scoring_queue_redrives_to_the_dead_letter_queue_after_fifteen_receives() -> None:
    redrive = resources()["ScoringQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 15  # logic/scoring_batch.py: 2 h 45 min of database outage
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["ScoringDeadLetterQueue", "Arn"]}
    assert resources()["ScoringDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_scorer_consumes_the_queue_in_batches_with_partial_failures_and_capped_concurrency() -> None:
    event = scorer_queue_event()
    assert event["Queue"] == {"Fn::GetAtt": ["ScoringQueue", "Arn"]}
    assert event["BatchSize"] == 50  # by measurement: docs/performance.md
    assert event["MaximumBatchingWindowInSeconds"] > 0
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "MaxScorerConcurrency"}
    parameter = load_template()["Parameters"]["MaxScorerConcurrency"]
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (5, 2, 1000)
    assert "ReservedConcurrentExecutions" not in functions()["ScorerFunction"]


def test_the_scorer_may_move_poison_messages_and_publish_risk_events_only_to_its_bus() -> None:
    policies = functions()["ScorerFunction"]["Policies"]
    assert {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["ScoringDeadLetterQueue", "QueueName"]}}} in policies
    (bus_policy,) = [p for p in policies if "Fn::If" in p and p["Fn::If"][0] == "HasRiskEventBus"]
    assert bus_policy["Fn::If"][1] == {"EventBridgePutEventsPolicy": {"EventBusName": {"Ref": "RiskEventBusName"}}}


def test_the_api_may_enqueue_and_start_the_fan_out() -> None:
    policies = functions()["ApiFunction"]["Policies"]
    assert {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["ScoringQueue", "QueueName"]}}} in policies
    assert {"LambdaInvokePolicy": {"FunctionName": {"Ref": "FanoutFunction"}}} in policies
    fanout = functions()["FanoutFunction"]["Policies"]
    assert {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["ScoringQueue", "QueueName"]}}} in fanout


def conditional_policies(name: str) -> dict[str, Any]:
    """A function's policies under Fn::If, by condition: the policy when it holds."""
    return {p["Fn::If"][0]: p["Fn::If"][1] for p in functions()[name]["Policies"] if "Fn::If" in p}


FUNCTION_ROLES = {
    "FanoutFunction": "healthscore_fanout",
    "ScorerFunction": "healthscore_scorer",
    "ApiFunction": "healthscore_api",
}
DB_SECRET_ARN_DEFAULT = {"Fn::If": ["HasDbSecret", {"Ref": "DbSecretArn"}, {"Ref": "AWS::NoValue"}]}


def test_behind_rds_proxy_each_function_gets_its_statement_timeout_from_its_own_role() -> None:
    """The proxy refuses startup options: each function logs in as a role whose statement_timeout is the
    template's DB_STATEMENT_TIMEOUT_MS for it (docs/sql/roles-admin.sql), and the proxy knows each secret."""
    roles_sql = (ROOT / "docs/sql/roles-admin.sql").read_text()
    role_timeouts = {
        role: int(seconds) * 1000
        for role, seconds in re.findall(r"ALTER ROLE (\w+) SET statement_timeout = '(\d+)s'", roles_sql)
    }
    for name, role in FUNCTION_ROLES.items():
        timeout = int(functions()[name]["Environment"]["Variables"]["DB_STATEMENT_TIMEOUT_MS"])
        assert role_timeouts[role] == timeout, name
        assert re.search(rf"CREATE ROLE {role} LOGIN CONNECTION LIMIT \d+ IN ROLE healthscore_app;", roles_sql)
    auth = resources()["DbProxy"]["Properties"]["Auth"]
    secrets = {entry["Fn::If"][1]["SecretArn"]["Ref"] for entry in auth if "Fn::If" in entry}
    assert secrets == {"ApiDbSecretArn", "ScorerDbSecretArn", "FanoutDbSecretArn"}
    assert auth[0]["SecretArn"] == {"Ref": "DbSecretArn"}


def test_database_functions_read_only_the_configured_secret() -> None:
    runtime = {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "DbSecretArn"}}}
    for name, own in FUNCTION_ROLES.items():
        prefix = name.removesuffix("Function")
        choice = {"Fn::If": [f"Has{prefix}DbSecret", {"Ref": f"{prefix}DbSecretArn"}, {"Ref": "DbSecretArn"}]}
        assert conditional_policies(name)["HasDbSecret"] == {
            "AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": choice}
        }
        assert functions()[name]["Environment"]["Variables"]["DB_SECRET_ARN"] == {
            "Fn::If": [f"Has{prefix}DbSecret", {"Ref": f"{prefix}DbSecretArn"}, DB_SECRET_ARN_DEFAULT]
        }, own
        assert functions()[name]["VpcConfig"]["Fn::If"][0] == "HasVpc"
    # The migrate function reads the migration owner's secret, or the runtime one where none is given.
    migrate = conditional_policies("MigrateFunction")
    assert migrate["HasMigrationSecret"] == {
        "AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "DbMigrationSecretArn"}}
    }
    assert migrate["MigratesWithRuntimeSecret"] == runtime
    assert "HasDbSecret" not in migrate


# ------------------------------------------------------------------ schedules


def test_two_schedules_start_the_nightly_jobs_each_with_retries_and_its_own_dead_letter_queue() -> None:
    template = load_template()
    schedules = [e["Properties"] for e in functions()["FanoutFunction"]["Events"].values() if e["Type"] == "ScheduleV2"]
    jobs = {json.loads(s["Input"])["job"]: s for s in schedules}
    assert set(jobs) == {"record-metrics", "calculate-scores"}
    expected = {
        "record-metrics": ("RecordMetricsScheduleExpression", "cron(0 1 * * ? *)"),
        "calculate-scores": ("CalculateScoresScheduleExpression", "cron(0 2 * * ? *)"),
    }
    dead_letter_queues = set()
    for job, schedule in jobs.items():
        parameter, default = expected[job]
        assert schedule["ScheduleExpression"] == {"Ref": parameter}
        assert template["Parameters"][parameter]["Default"] == default
        assert schedule["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
        assert schedule["RetryPolicy"]["MaximumRetryAttempts"] > 0
        queue = schedule["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        assert resources()[queue]["Type"] == "AWS::SQS::Queue"
        dead_letter_queues.add(queue)
        assert json.loads(schedule["Input"])["asOf"] == SCHEDULED_TIME  # one run, whatever the retries
        FanoutRequest.model_validate_json(scheduled(schedule["Input"]))
    assert len(dead_letter_queues) == 2
    assert template["Parameters"]["ScheduleTimezone"]["Default"] == "UTC"


# ------------------------------------------------------------------ HTTP API


def test_every_route_is_present_with_its_auth() -> None:
    expected = {(method, JWT_PREFIX + path, JWT_AUTH) for method, path in OPERATIONS | DOCUMENTS} | {
        (method, IAM_PREFIX + path, IAM_AUTH) for method, path in OPERATIONS
    }
    assert template_routes() == expected


def test_routes_are_served_by_the_api_function() -> None:
    for name, function in functions().items():
        has_routes = any(event["Type"] == "HttpApi" for event in function.get("Events", {}).values())
        assert has_routes == (name == "ApiFunction"), name


def test_the_jwt_authorizer_is_a_cached_lambda_request_authorizer_with_simple_responses() -> None:
    api = resources()["HealthApi"]
    assert api["Type"] == "AWS::Serverless::HttpApi"
    auth = api["Properties"]["Auth"]
    assert auth["DefaultAuthorizer"] == JWT_AUTH
    assert auth["EnableIamAuthorizer"] is True
    authorizer = auth["Authorizers"][JWT_AUTH]
    assert authorizer["FunctionArn"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    assert authorizer["AuthorizerPayloadFormatVersion"] == "2.0"
    assert authorizer["EnableSimpleResponses"] is True
    assert authorizer["Identity"]["Headers"] == ["Authorization"]  # the cache key: the token only
    assert authorizer["Identity"]["ReauthorizeEvery"] > 0
    properties = api["Properties"]
    assert properties["StageName"] == {"Ref": "StageName"}
    assert properties["CorsConfiguration"]["AllowOrigins"] == [{"Ref": "PortalOrigin"}]
    assert properties["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0] in resources()
    assert properties["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0


def test_cors_allows_every_method_a_route_uses_and_exposes_retry_after() -> None:
    # The portal calls from its own origin: a method missing here makes the browser refuse that route's preflight.
    cors = resources()["HealthApi"]["Properties"]["CorsConfiguration"]
    served = {method for method, _, _ in template_routes()} | {
        method for route in (*app._static_routes, *app._dynamic_routes) for method in route.method.split("|")
    }
    assert served <= set(cors["AllowMethods"]), f"missing from AllowMethods: {served - set(cors['AllowMethods'])}"
    assert "OPTIONS" in cors["AllowMethods"]
    assert {"Authorization", "Content-Type"} <= set(cors["AllowHeaders"])
    assert cors["ExposeHeaders"] == ["Retry-After"]


@pytest.mark.parametrize(
    "operation",
    [("POST", "/profiles/{profileId}/preview"), ("POST", "/calculate-all"), ("POST", "/profiles/{profileId}/restate")],
)
def test_the_expensive_routes_have_their_own_lower_throttles_on_both_prefixes(operation: tuple[str, str]) -> None:
    properties = resources()["HealthApi"]["Properties"]
    default = properties["DefaultRouteSettings"]
    method, path = operation
    for prefix in (JWT_PREFIX, IAM_PREFIX):
        route_key = f"{method} {prefix}{path}"
        assert (method, prefix + path) in {(m, p) for m, p, _ in template_routes()}, route_key  # a real route
        throttle = properties["RouteSettings"][route_key]
        assert 0 < throttle["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"]
        assert 0 < throttle["ThrottlingRateLimit"] < default["ThrottlingRateLimit"]


# ------------------------------------------------------------------ migrations, alarms, dashboard, outputs


def test_migrations_run_on_deploy_whenever_the_layer_changes() -> None:
    migrations = resources()["Migrations"]
    assert migrations["Type"] == "Custom::Migrations"
    assert migrations["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["MigrateFunction", "Arn"]}
    assert migrations["Properties"]["SharedLayerVersion"] == {"Ref": "SharedLayer"}
    for name in ("FanoutFunction", "ScorerFunction", "ApiFunction"):
        assert resources()[name]["DependsOn"] == "Migrations", name


def test_alarms_watch_the_dead_letter_queue_the_scorer_and_the_nightly_deadline() -> None:
    alarms = {name: r["Properties"] for name, r in resources().items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    dlq = alarms["ScoringDeadLetterQueueAlarm"]
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["ScoringDeadLetterQueue", "QueueName"]}
    assert (dlq["Threshold"], dlq["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarms["ScorerErrorsAlarm"]["Dimensions"][0]["Value"] == {"Ref": "ScorerFunction"}
    assert "HOUR(" in alarms["NightlyRunLateAlarm"]["Metrics"][0]["Expression"]["Fn::Sub"]
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == {  # every alarm, the new ones too
            "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
        }


def test_the_dashboard_body_is_json_with_the_service_metrics() -> None:
    body = resources()["HealthDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "1", body))
    metrics = [m for w in dashboard["widgets"] for m in w["properties"].get("metrics", [])]
    custom = {m[1] for m in metrics if m[0] == "HealthScore"}
    assert {"TenantsScored", "TenantsSkipped", "TenantsFailed"} <= custom


def test_parameters_and_outputs() -> None:
    template = load_template()
    parameters = template["Parameters"]
    expected = {
        "StageName",
        "SubnetIds",
        "SecurityGroupIds",
        "DbSecretArn",
        "DatabaseUrl",
        "MaxScorerConcurrency",
        "ScheduleTimezone",
        "RecordMetricsScheduleExpression",
        "CalculateScoresScheduleExpression",
        "PortalOrigin",
        "JwtIssuer",
        "JwtAudience",
        "JwtJwksUrl",
        "RolesClaim",
        "IamRoleMap",
        "RiskEventBusName",
        "AlarmTopicArn",
        "LogLevel",
    }
    assert expected <= set(parameters), sorted(expected - set(parameters))
    assert parameters["DatabaseUrl"]["NoEcho"] is True
    assert parameters["IamRoleMap"]["Default"] == "{}"
    assert parameters["RolesClaim"]["Default"] == "roles"
    for name in ("ApiUrl", "ScoringQueueUrl", "DeadLetterQueueUrl", "RiskEventBusName", "FanoutFunctionName"):
        assert name in template["Outputs"], name


# ------------------------------------------------------------------ events/


def test_the_schedule_events_are_the_schedules_inputs() -> None:
    at = {"record-metrics": "2026-11-28T01:00:00Z", "calculate-scores": "2026-11-28T02:00:00Z"}
    inputs = {
        job: json.loads(scheduled(e["Properties"]["Input"], at[job]))
        for e in functions()["FanoutFunction"]["Events"].values()
        if e["Type"] == "ScheduleV2" and (job := json.loads(e["Properties"]["Input"])["job"])
    }
    assert load_event("schedule_record_metrics.json") == inputs["record-metrics"]
    assert load_event("schedule_calculate_scores.json") == inputs["calculate-scores"]


@pytest.mark.parametrize("name", ["sqs_scoring_batch.json", "sqs_dlq_replay.json"])
def test_the_sqs_events_have_lambdas_shape(name: str) -> None:
    event = load_event(name)
    SqsModel.model_validate(event)
    for record in event["Records"]:
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # what SQS computes


def test_the_scoring_batch_has_two_valid_messages_and_one_poison() -> None:
    records = load_event("sqs_scoring_batch.json")["Records"]
    assert len(records) == 3
    valid, poison = [], []
    for record in records:
        try:
            valid.append(ScoringMessage.model_validate_json(record["body"]))
        except ValidationError:
            poison.append(record)
    assert len(valid) == 2
    assert len(poison) == 1
    with pytest.raises(json.JSONDecodeError):
        json.loads(poison[0]["body"])


def test_the_replayed_record_is_a_first_receive_of_a_valid_message() -> None:
    (record,) = load_event("sqs_dlq_replay.json")["Records"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    ScoringMessage.model_validate_json(record["body"])


@pytest.mark.parametrize(
    ("name", "auth"),
    [("api_get_scores.json", JWT_AUTH), ("api_get_scores_iam.json", IAM_AUTH), ("api_recalculate.json", JWT_AUTH)],
)
def test_the_api_events_are_payload_2_requests_for_template_routes(name: str, auth: str) -> None:
    raw = load_event(name)
    event = APIGatewayProxyEventV2Model.model_validate(raw)
    method, path = event.routeKey.split(" ", 1)
    assert (method, path, auth) in template_routes()
    assert event.requestContext.http.method == method
    concrete = path
    for key, value in (event.pathParameters or {}).items():
        concrete = concrete.replace("{" + key + "}", value)
    assert event.rawPath == f"/{event.requestContext.stage}{concrete}"  # a named stage prefixes the path
    authorizer = raw["requestContext"]["authorizer"]
    if auth == IAM_AUTH:
        # API Gateway reports a caller signing with a role's credentials as the assumed role's session.
        iam = authorizer["iam"]
        assert re.fullmatch(r"arn:aws:sts::[0-9]{12}:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+", iam["userArn"])
        assert iam["callerId"].endswith(":" + iam["userArn"].rsplit("/", 1)[1])
    else:
        assert set(authorizer["lambda"]) == {"sub", "roles"}


def test_the_migrate_event_is_a_create_for_the_template_resource() -> None:
    event = CloudFormationCustomResourceCreateModel.model_validate(load_event("migrate_custom_resource_create.json"))
    resource = resources()[event.logical_resource_id]
    assert resource["Type"] == event.resource_type == "Custom::Migrations"
    assert set(resource["Properties"]) <= set(event.resource_properties or {})


# ------------------------------------------------------------------ production database connections


def test_database_connections_verify_tls_against_the_layers_bundle_with_timeouts() -> None:
    template = load_template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["DB_SSLMODE"] == {"Ref": "DbSslMode"}
    assert template["Parameters"]["DbSslMode"]["Default"] == "verify-full"
    assert variables["DB_SSLROOTCERT"] == "/opt/certs/rds-global-bundle.pem"  # layer content mounts at /opt
    build = (ROOT / "layers/shared/Makefile").read_text()
    assert 'cp "$(RDS_CA_BUNDLE)" "$(ARTIFACTS_DIR)/certs/"' in build
    assert "RDS_CA_BUNDLE = certs/rds-global-bundle.pem" in build
    assert (variables["DB_CONNECT_TIMEOUT"], variables["DB_STATEMENT_TIMEOUT_MS"]) == ("5", "30000")
    for name in ("ApiFunction", "ScorerFunction"):
        assert functions()[name]["Environment"]["Variables"]["DB_STATEMENT_TIMEOUT_MS"] == "5000", name
    assert functions()["FanoutFunction"]["Environment"]["Variables"]["DB_STATEMENT_TIMEOUT_MS"] == "30000"
    migrate = functions()["MigrateFunction"]
    assert int(migrate["Environment"]["Variables"]["DB_STATEMENT_TIMEOUT_MS"]) < migrate["Timeout"] * 1000


# ------------------------------------------------------------------ fan-out retries


def test_a_failed_fan_out_lands_on_an_alarmed_queue_after_lambdas_retries() -> None:
    config = functions()["FanoutFunction"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["FanoutFailedEventsQueue", "Arn"]},
    }
    alarm = resources()["FanoutFailedEventsAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["FanoutFailedEventsQueue", "QueueName"]}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


# ------------------------------------------------------------------ production parameters


def test_secrets_their_kms_key_and_a_single_database_setting() -> None:
    template = load_template()
    rule = template["Rules"]["OneDatabaseSetting"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "DbSecretArn"}, ""]}]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "DatabaseUrl"}, ""]}
    migrate = functions()["MigrateFunction"]["Environment"]["Variables"]["DB_SECRET_ARN"]
    assert migrate["Fn::If"][:2] == ["HasMigrationSecret", {"Ref": "DbMigrationSecretArn"}]
    for name in ("FanoutFunction", "ScorerFunction", "ApiFunction", "MigrateFunction"):
        (statement,) = conditional_policies(name)["HasSecretKmsKey"]["Statement"]
        assert (statement["Action"], statement["Resource"]) == ("kms:Decrypt", {"Ref": "DbSecretKmsKeyArn"})
        assert "kms:ViaService" in statement["Condition"]["StringEquals"]
    for parameter in ("DbMigrationSecretArn", "DbSecretKmsKeyArn"):
        assert template["Parameters"][parameter]["Default"] == ""


def test_reserved_concurrency_caps_the_api_and_the_fan_out() -> None:
    template = load_template()
    for name, parameter, default in [
        ("ApiFunction", "ApiReservedConcurrency", 10),
        ("FanoutFunction", "FanoutReservedConcurrency", 2),
    ]:
        reserved = functions()[name]["ReservedConcurrentExecutions"]["Fn::If"]
        assert reserved[1] == {"Ref": parameter}
        assert reserved[2] == {"Ref": "AWS::NoValue"}  # 0: no reservation, rather than a disabled function
        assert template["Conditions"][reserved[0]] == {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, 0]}]}
        assert template["Parameters"][parameter]["Default"] == default


def test_rds_proxy_is_created_or_used_and_switches_the_connections_to_proxy_mode() -> None:
    template = load_template()
    assert template["Parameters"]["DbProxyMode"]["AllowedValues"] == ["none", "create", "existing"]
    proxy = resources()["DbProxy"]
    assert proxy["Condition"] == "CreatesDbProxy"
    assert (proxy["Properties"]["EngineFamily"], proxy["Properties"]["RequireTLS"]) == ("POSTGRESQL", True)
    assert proxy["Properties"]["Auth"][0]["SecretArn"] == {"Ref": "DbSecretArn"}
    targets = resources()["DbProxyTargetGroup"]["Properties"]
    assert targets["DBInstanceIdentifiers"] == [{"Ref": "DbInstanceIdentifier"}]
    assert targets["ConnectionPoolConfigurationInfo"]["MaxConnectionsPercent"] == {
        "Ref": "DbProxyMaxConnectionsPercent"
    }
    for name in ("FanoutFunction", "ScorerFunction", "ApiFunction"):
        variables = functions()[name]["Environment"]["Variables"]
        assert variables["DB_PROXY"] == {"Fn::If": ["UsesDbProxy", "true", "false"]}
        host = variables["DB_HOST"]["Fn::If"]
        assert host[:2] == ["CreatesDbProxy", {"Fn::GetAtt": ["DbProxy", "Endpoint"]}]
        assert host[2]["Fn::If"][:2] == ["UsesExistingDbProxy", {"Ref": "DbProxyEndpoint"}]
    migrate = functions()["MigrateFunction"]["Environment"]["Variables"]
    assert not {"DB_PROXY", "DB_HOST"} & set(migrate)  # DDL goes straight to the database
    assert {"CreatedProxyNeedsVpcSecretAndInstance", "ExistingProxyNeedsItsEndpoint"} <= set(template["Rules"])


def test_alarms_on_what_users_feel_and_the_authorizers_outage_metric() -> None:
    alarms = {name: r["Properties"] for name, r in resources().items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    api = [{"Name": "ApiId", "Value": {"Ref": "HealthApi"}}, {"Name": "Stage", "Value": {"Ref": "StageName"}}]
    errors = alarms["Api5xxAlarm"]
    assert (errors["Namespace"], errors["MetricName"], errors["Dimensions"]) == ("AWS/ApiGateway", "5xx", api)
    assert errors["Threshold"] == {"Ref": "Api5xxAlarmThreshold"}
    latency = alarms["ApiLatencyAlarm"]
    assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Dimensions"]) == ("Latency", "p99", api)
    assert latency["Threshold"] == {"Ref": "ApiLatencyP99AlarmMs"}
    throttles = alarms["ApiThrottlesAlarm"]
    assert (throttles["Namespace"], throttles["MetricName"]) == ("AWS/Lambda", "Throttles")
    assert throttles["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "ApiFunction"}}]
    from healthscore.auth.unavailable import METRIC

    authorizer = alarms["AuthorizerUnavailableAlarm"]
    assert (authorizer["Namespace"], authorizer["MetricName"]) == ("HealthScore", METRIC)
    assert authorizer["Dimensions"] == [{"Name": "service", "Value": "healthscore"}]
    globals_ = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert (globals_["POWERTOOLS_METRICS_NAMESPACE"], globals_["POWERTOOLS_SERVICE_NAME"]) == (
        "HealthScore",
        "healthscore",
    )


def test_the_api_keeps_its_responses_out_of_traces_and_logs_are_json_at_the_chosen_level() -> None:
    assert functions()["ApiFunction"]["Environment"]["Variables"]["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    levels = load_template()["Mappings"]["LambdaLogLevel"]
    assert set(levels) == set(load_template()["Parameters"]["LogLevel"]["AllowedValues"])
    assert levels["WARNING"] == {"Level": "WARN"}  # Lambda's name for it
    for name, function in functions().items():
        logging_config = function["LoggingConfig"]
        assert logging_config["LogFormat"] == "JSON", name
        assert logging_config["ApplicationLogLevel"] == {
            "Fn::FindInMap": ["LambdaLogLevel", {"Ref": "LogLevel"}, "Level"]
        }
        assert logging_config["SystemLogLevel"] == "WARN"


def test_unpublished_risk_events_are_swept_on_a_schedule_and_their_age_alarmed() -> None:
    sweep = resources()["EventSweepFunction"]
    assert sweep["Condition"] == "HasRiskEventBus"
    assert sweep["Properties"]["Events"]["Sweep"]["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    assert {"EventBridgePutEventsPolicy": {"EventBusName": {"Ref": "RiskEventBusName"}}} in sweep["Properties"][
        "Policies"
    ]
    alarm = resources()["UnpublishedRiskEventsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "HealthScore",
        "OldestUnpublishedEventAge",
        "Maximum",
    )
    assert alarm["TreatMissingData"] == "breaching"  # a sweep that stopped running alarms too
    assert "OldestUnpublishedEventAge" in (ROOT / "functions/event_sweep/app.py").read_text()


def test_the_risk_event_bus_name_refuses_placeholders_and_arns() -> None:
    pattern = re.compile(load_template()["Parameters"]["RiskEventBusName"]["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch("healthscore-risk")
    assert not pattern.fullmatch("REPLACE_ME-risk-bus")
    assert not pattern.fullmatch("healthscore-REPLACE_ME")
    assert not pattern.fullmatch("arn:aws:events:eu-west-1:123456789012:event-bus/healthscore-risk")


def test_the_xray_sdk_is_opt_in_by_a_parameter_and_shipped_for_it() -> None:
    parameter = load_template()["Parameters"]["XRaySdkTracing"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("false", ["true", "false"])
    assert load_template()["Conditions"]["UseXRaySdk"] == {"Fn::Equals": [{"Ref": "XRaySdkTracing"}, "true"]}
    switch = load_template()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"]
    assert switch == {"Fn::If": ["UseXRaySdk", "false", "true"]}
    # The functions that can opt in wrap their handler in healthscore.tracing; the layer ships the SDK for them.
    handlers = (ROOT / "functions").glob("*/app.py")
    opted = {path.parent.name for path in handlers if "tracing.capture" in path.read_text()}
    assert opted == {"api", "scorer", "fanout"}
    assert "aws-lambda-powertools[tracer]" in (ROOT / "layers/shared/requirements.txt").read_text()


@pytest.mark.parametrize("parameter", ["DbSecretArn", "DbMigrationSecretArn"])
def test_a_secret_is_its_full_arn_and_never_a_placeholder(parameter: str) -> None:
    pattern = re.compile(load_template()["Parameters"][parameter]["AllowedPattern"])
    full = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:healthscore/prod/db-a1B2c3"
    assert pattern.fullmatch(full)
    assert pattern.fullmatch("")
    assert not pattern.fullmatch("arn:aws:secretsmanager:eu-west-1:123456789012:secret:healthscore/prod/db")
    assert not pattern.fullmatch("arn:aws:secretsmanager:eu-west-1:123456789012:secret:healthscore/prod/db-REPLACE_ME")


def test_the_samconfig_profiles_are_complete_and_refused_until_their_placeholders_are_replaced() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    parameters = load_template()["Parameters"]
    for profile in ("dev", "prod"):
        overrides = config[profile]["deploy"]["parameters"]["parameter_overrides"]
        pairs = dict(item.split("=", 1) for item in (overrides if isinstance(overrides, list) else overrides.split()))
        assert set(pairs) <= set(parameters), sorted(set(pairs) - set(parameters))
        assert {"SubnetIds", "SecurityGroupIds"} <= set(pairs), profile  # the database is in a VPC
        secret = re.compile(parameters["DbSecretArn"]["AllowedPattern"])
        assert not secret.fullmatch(pairs["DbSecretArn"]), f"{profile}: a placeholder must not deploy"
        assert pairs["LogLevel"] == "INFO", profile  # DEBUG stays a parameter value, chosen on purpose
    assert "DEBUG" in parameters["LogLevel"]["AllowedValues"]
    prod = dict(item.split("=", 1) for item in config["prod"]["deploy"]["parameters"]["parameter_overrides"])
    assert prod["SkipSourceTablesMigration"] == "true"  # the platform's database has the source tables
    assert prod["DbMigrationSecretArn"].startswith("arn:aws:secretsmanager:")

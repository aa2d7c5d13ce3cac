"""Migrate Lambda: applies the schema migrations, the same as `healthscore db migrate`.

- From CloudFormation (`Custom::Migrations`, on deploy): Create and Update migrate, Delete
  leaves the schema alone; CloudFormation always gets SUCCESS, or FAILED with the reason.
- From CI after a deploy, `{"action": "migrate"}`: returns `{"applied": [versions applied now]}`
  (empty when the schema was up to date) and fails the invocation if a migration fails.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthscore.aws.custom_resource import is_custom_resource_event, run_custom_resource
from healthscore.dal.connection import get_connection
from healthscore.dal.migrate import migrate, migrations_to_skip

logger = Logger()


def apply_migrations() -> list[str]:
    applied = migrate(get_connection(), skip=migrations_to_skip())
    logger.info("migrations applied" if applied else "schema is up to date", extra={"applied": applied})
    return applied


def _migrate_for_cloudformation() -> dict[str, str]:
    applied = apply_migrations()
    return {"AppliedCount": str(len(applied)), "Applied": ",".join(applied)}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_custom_resource_event(event):
        return run_custom_resource(event, context, create_or_update=_migrate_for_cloudformation)
    if isinstance(event, dict) and event.get("action") == "migrate":
        return {"applied": apply_migrations()}
    raise ValueError('expected a CloudFormation custom resource event or {"action": "migrate"}')

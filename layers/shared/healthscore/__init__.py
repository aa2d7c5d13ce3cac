"""Client health scoring service: the shared package of the Lambda layer."""

from healthscore.log_levels import cap_aws_sdk_loggers
from healthscore.pydantic_plugins import skip_plugin_discovery

skip_plugin_discovery()  # before any model is built: see healthscore/pydantic_plugins.py
cap_aws_sdk_loggers()  # before any boto3 client: see healthscore/log_levels.py

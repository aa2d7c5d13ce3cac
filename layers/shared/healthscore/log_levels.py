"""The service's logging set-up, in one place: the AWS SDK's and urllib3's loggers never log below INFO.

Lambda's runtime sets the root logger to the function's log level (ApplicationLogLevel), and at DEBUG
botocore logs each request's and response's body: GetSecretValue's SecretString, the database password,
would be a log line. So these loggers get their own level, INFO or the configured level if it is higher
(`LOG_LEVEL`, as Powertools reads it), whatever the root logger's.
"""

from __future__ import annotations

import logging
import os

AWS_SDK_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
SDK_FLOOR = logging.INFO


def cap_aws_sdk_loggers() -> None:
    configured = logging.getLevelNamesMapping().get(os.environ.get("LOG_LEVEL", "").strip().upper(), logging.NOTSET)
    level = max(SDK_FLOOR, configured)
    for name in AWS_SDK_LOGGERS:
        logging.getLogger(name).setLevel(level)

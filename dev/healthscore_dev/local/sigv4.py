"""AWS_IAM routes as API Gateway authorizes them: a SigV4 signature (service `execute-api`) checked with botocore.

API Gateway recomputes the signature of the request from the signed headers, the path, the query
and the body with the caller's secret key, refuses a request dated more than 5 minutes away from
its clock, and hands the integration the caller as `requestContext.authorizer.iam`. A caller
signing with a role's temporary credentials is `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`
there. Locally one key pair is trusted (the server's environment's credentials) and its caller is
presented as that assumed role, with a configurable role and session name.

Refusals are API Gateway's: 403 with its messages (an unsigned request, an unknown key, a signature
that does not match, a date outside the allowed skew).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

SERVICE: Final = "execute-api"
ALLOWED_CLOCK_SKEW: Final = timedelta(minutes=5)
UNSIGNED: Final = "Missing Authentication Token"
UNKNOWN_KEY: Final = "The security token included in the request is invalid."
MISMATCH: Final = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access"
    " Key and signing method. Consult the service documentation for details."
)
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>[0-9]{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;_.-]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


class SignatureRefusedError(Exception):
    """API Gateway's 403 for an AWS_IAM route; the message is the one it answers."""


@dataclass(frozen=True)
class IamCaller:
    """Who the trusted key pair signs as: an assumed role's session in `account`."""

    account: str
    role: str
    session: str

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role}/{self.session}"

    def context(self, access_key: str) -> dict[str, Any]:
        """`requestContext.authorizer.iam` as API Gateway fills it for an assumed role."""
        caller_id = f"AROALOCAL{self.role.upper()[:12]}:{self.session}"
        return {
            "accessKey": access_key,
            "accountId": self.account,
            "callerId": caller_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": self.arn,
            "userId": caller_id,
        }


@dataclass(frozen=True)
class SigV4Verifier:
    credentials: ReadOnlyCredentials
    region: str
    caller: IamCaller

    def verify(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes, now: datetime | None = None
    ) -> dict[str, Any]:
        """The `iam` authorizer context of a correctly signed request; SignatureRefusedError otherwise.

        `url` is the request's scheme, Host and raw target (path and query) as received.
        """
        values: dict[str, list[str]] = {}
        for name, value in headers:
            values.setdefault(name.lower(), []).append(value)
        authorization = (values.get("authorization") or [""])[0]
        if not authorization.startswith("AWS4-HMAC-SHA256 "):
            raise SignatureRefusedError(UNSIGNED)
        found = _AUTHORIZATION.fullmatch(authorization.strip())
        signed = found["signed"].split(";") if found else []
        stamp = (values.get("x-amz-date") or [""])[0]
        if not found or "host" not in signed or not re.fullmatch(r"[0-9]{8}T[0-9]{6}Z", stamp):
            raise SignatureRefusedError(
                "Authorization header requires a well-formed Credential, SignedHeaders and Signature,"
                " and the request an X-Amz-Date"
            )
        if found["key"] != self.credentials.access_key or values.get("x-amz-security-token", [None])[0] != (
            self.credentials.token
        ):
            raise SignatureRefusedError(UNKNOWN_KEY)
        if (found["date"], found["region"], found["service"]) != (stamp[:8], self.region, SERVICE):
            raise SignatureRefusedError(
                f"Credential should be scoped to a valid region and service: {stamp[:8]}/{self.region}/{SERVICE}"
            )
        declared = values.get("x-amz-content-sha256", [None])[0]
        if declared is not None and declared != hashlib.sha256(body).hexdigest():
            raise SignatureRefusedError("The provided x-amz-content-sha256 header does not match what was computed.")
        signed_at = datetime.strptime(stamp, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
        now = now or datetime.now(UTC)
        if abs(now - signed_at) > ALLOWED_CLOCK_SKEW:
            raise SignatureRefusedError(
                f"Signature expired: {stamp} is now earlier than"
                f" {(now - ALLOWED_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)}"
                f" ({now.strftime(SIGV4_TIMESTAMP)} - 5 min.)"
                if signed_at < now
                else f"Signature not yet current: {stamp} is still later than"
                f" {(now + ALLOWED_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)} ({now.strftime(SIGV4_TIMESTAMP)} + 5 min.)"
            )
        # The request as the caller signed it: the signed headers only, the body as received.
        request = AWSRequest(
            method=method,
            url=url,
            headers={name: ",".join(values.get(name, [])) for name in signed},
            data=body,
        )
        request.context["timestamp"] = stamp
        signer = SigV4Auth(self.credentials, SERVICE, self.region)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, found["signature"]):
            raise SignatureRefusedError(MISMATCH)
        return self.caller.context(found["key"])

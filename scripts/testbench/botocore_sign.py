#!/usr/bin/env python3
"""Signs one request with botocore and prints the result, to compare nepho's signers
with botocore's in nepho's tests.

Input (stdin, JSON): access_key_id, secret_access_key, session_token (optional),
region, method, url, timestamp (ISO 8601, UTC), and either
- service, headers (list of [name, value]), body: SigV4Auth; prints the signed headers
  as JSON (SigV4Signer), or
- presign: true, expires (seconds): S3SigV4QueryAuth; prints the presigned URL
  (SigV4Presigner).
"""

import datetime
import json
import sys
from unittest import mock

from botocore.auth import S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(sys.stdin)
when = datetime.datetime.strptime(spec["timestamp"], "%Y-%m-%dT%H:%M:%SZ")


class FixedDateTime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return when

    @classmethod
    def now(cls, tz=None):
        return when.replace(tzinfo=tz) if tz else when


credentials = Credentials(spec["access_key_id"], spec["secret_access_key"], spec.get("session_token"))
if spec.get("presign"):
    request = AWSRequest(method=spec["method"], url=spec["url"])
    with mock.patch("botocore.auth.datetime.datetime", FixedDateTime):
        S3SigV4QueryAuth(credentials, "s3", spec["region"], expires=spec["expires"]).add_auth(request)
    print(request.url)
    sys.exit(0)
request = AWSRequest(
    method=spec["method"], url=spec["url"], data=spec["body"].encode(), headers=dict(spec["headers"])
)
with mock.patch("botocore.auth.datetime.datetime", FixedDateTime):
    SigV4Auth(credentials, spec["service"], spec["region"]).add_auth(request)
print(json.dumps({k: v for k, v in request.headers.items()}))

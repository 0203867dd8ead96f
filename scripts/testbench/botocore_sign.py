#!/usr/bin/env python3
"""Signs one request with botocore's SigV4Auth and prints the signed headers as JSON.

Input (stdin, JSON): access_key_id, secret_access_key, session_token (optional),
region, service, method, url, headers (list of [name, value]), body, timestamp
(ISO 8601, UTC). Used by nepho's tests to compare its signer with botocore's.
"""

import datetime
import json
import sys
from unittest import mock

from botocore.auth import SigV4Auth
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
request = AWSRequest(
    method=spec["method"], url=spec["url"], data=spec["body"].encode(), headers=dict(spec["headers"])
)
with mock.patch("botocore.auth.datetime.datetime", FixedDateTime):
    SigV4Auth(credentials, spec["service"], spec["region"]).add_auth(request)
print(json.dumps({k: v for k, v in request.headers.items()}))

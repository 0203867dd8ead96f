#!/usr/bin/env python3
"""Presigns one S3 request with botocore's S3SigV4QueryAuth and prints the URL.

Input (stdin, JSON): access_key_id, secret_access_key, session_token (optional),
region, method, url, expires (seconds), timestamp (ISO 8601, UTC). Used by nepho's
tests to compare its presigner (SigV4Presigner) with botocore's.
"""

import datetime
import json
import sys
from unittest import mock

from botocore.auth import S3SigV4QueryAuth
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
request = AWSRequest(method=spec["method"], url=spec["url"])
with mock.patch("botocore.auth.datetime.datetime", FixedDateTime):
    S3SigV4QueryAuth(credentials, "s3", spec["region"], expires=spec["expires"]).add_auth(request)
print(request.url)

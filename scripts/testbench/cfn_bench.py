#!/usr/bin/env python3
"""nepho's CloudFormation test bench: moto plus a scripting, fault-injecting proxy.

Starts moto's server (the code behind the `moto_server` command, run in this process so
the bench can drive moto's backend) on a free loopback port, and a proxy in front of it
on another free loopback port. Clients use the proxy's URL as AWS_ENDPOINT_URL.

On top of moto the proxy can
  * inject faults into chosen calls: Throttling answers, HTTP 5xx, added latency, a
    connection reset, a hang;
  * page list answers that moto answers whole (DescribeStackEvents, ListStacks,
    ListStackResources, DescribeStacks) with its own NextToken;
  * drive a stack through a realistic lifecycle over time: per-resource
    *_IN_PROGRESS/*_COMPLETE events, a resource failure and rollback, update and
    delete sequences;
  * create the Lambda function that holds a build open through a Custom:: resource,
    and release it by PUTting a cfnresponse document to moto.

When ready it prints one JSON line on stdout: {"endpoint", "moto", "region", "pid"}.
It exits when its standard input reaches end-of-file (its parent died or closed it),
or on SIGTERM/SIGINT. The control interface is JSON over HTTP under /_bench/ on the
proxy's port; docs/testbench.md describes it.
"""

import http.client
import http.server
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

from cfn_lifecycle import (
    add_event,
    backend,
    create_hold_function,
    defer_moto_notifications,
    eventbridge,
    flush,
    pending_custom_resources,
    release_hold,
    run_delete,
    signal_event,
    start_lifecycle,
    take_over_create,
    take_over_update,
)

CFN_NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
BENCH_TOKEN_PREFIX = "nepho-bench-page-"
LIST_ACTIONS = {
    # action: (result element, list element)
    "DescribeStackEvents": ("DescribeStackEventsResult", "StackEvents"),
    "ListStacks": ("ListStacksResult", "StackSummaries"),
    "ListStackResources": ("ListStackResourcesResult", "StackResourceSummaries"),
    "DescribeStacks": ("DescribeStacksResult", "Stacks"),
}


class Bench:
    """Shared state: fault rules, paging, lifecycle scripts, the call log."""

    def __init__(self, moto_port):
        self.moto_port = moto_port
        self.lock = threading.Lock()
        self.faults = []  # dicts: action, fault, times, after, status, seconds, matched
        self.paging = {}  # action -> page size
        self.pages = {}  # token -> (action, remaining members as XML strings)
        self.lifecycles = {}  # stack name -> script dict
        self.calls = []  # dicts: action, method, path, fault, status (+ template_url, stack_name, capabilities, include_nested_stacks)
        self.answered = {}  # (action, ClientRequestToken) -> (status, answer): moto ignores the token

    # --- faults -------------------------------------------------------------------
    def take_fault(self, action, method, path):
        with self.lock:
            for rule in self.faults:
                if rule["action"] not in ("*", action):
                    continue
                if rule.get("method") and rule["method"] != method:
                    continue
                if rule.get("path_prefix") and not path.startswith(rule["path_prefix"]):
                    continue
                rule["seen"] = rule.get("seen", 0) + 1
                if rule["seen"] <= rule.get("after", 0):
                    continue
                # "every": N takes one matching call in N (a third of them throttled: 3).
                if rule.get("every") and (rule["seen"] - rule.get("after", 0)) % int(rule["every"]) != 0:
                    continue
                if rule["times"] >= 0 and rule.get("used", 0) >= rule["times"]:
                    continue
                rule["used"] = rule.get("used", 0) + 1
                return dict(rule)
        return None

    def log_call(self, entry):
        with self.lock:
            self.calls.append(entry)


def region_of(headers, default="us-east-1"):
    auth = headers.get("Authorization", "")
    match = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", auth)
    return match.group(1) if match else default


def error_xml(code, message, sender=True):
    kind = "Sender" if sender else "Receiver"
    return (
        f'<ErrorResponse xmlns="{CFN_NS}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()


# --- the proxy ------------------------------------------------------------------------
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bench: Bench = None  # set at start

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def do_HEAD(self):
        self.handle_any()

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status, body, content_type="text/xml", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        body = self.read_body()
        path = self.path
        if path.startswith("/_bench/"):
            return self.control(path, body)
        params = {}
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        query = urllib.parse.urlsplit(path).query
        params.update({k: v for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k == "Action"})
        # JSON-protocol services (EventBridge) name the action in X-Amz-Target (AWSEvents.PutRule).
        target = self.headers.get("X-Amz-Target", "")
        action = params.get("Action") or target.rsplit(".", 1)[-1] or f"{self.command} {urllib.parse.urlsplit(path).path}"
        entry = {"action": action, "method": self.command, "path": path, "fault": None, "status": None}
        key = re.search(r"Credential=([^/,\s]+)/", self.headers.get("Authorization", ""))
        if key:
            entry["access_key_id"] = key.group(1)
        if params.get("TemplateURL"):
            entry["template_url"] = params["TemplateURL"]
        if params.get("StackName"):
            entry["stack_name"] = params["StackName"]
        members = [(int(k.rsplit(".", 1)[1]), v) for k, v in params.items() if k.startswith("Capabilities.member.")]
        if members:
            entry["capabilities"] = [v for _, v in sorted(members)]
        if "IncludeNestedStacks" in params:
            entry["include_nested_stacks"] = params["IncludeNestedStacks"] == "true"
        self._body_for_forward = body
        rule = self.bench.take_fault(action, self.command, path)
        if rule and rule["fault"] == "drop":
            # The call reaches moto and acts; its answer is lost (the connection resets).
            entry["fault"] = "drop"
            self.bench.log_call(entry)
            status, _, answer = self.forward(self.localize_template_url(dict(params), body))
            self.remember(action, params, status, answer)
            return self.apply_fault({"fault": "reset"})
        if rule:
            entry["fault"] = rule["fault"]
            self.bench.log_call(entry)
            return self.apply_fault(rule)
        if path.startswith("/_echo") or path.startswith("/_bytes"):
            entry["status"] = 200
            self.bench.log_call(entry)
            return self.plain_http(path, body)
        region = region_of(self.headers)
        # Our own pages of a list moto answers whole.
        token = params.get("NextToken", "")
        if token.startswith(BENCH_TOKEN_PREFIX):
            entry["status"] = 200
            self.bench.log_call(entry)
            return self.next_page(action, token)
        if action == "CancelUpdateStack":
            entry["status"] = 200
            self.bench.log_call(entry)
            return self.cancel_update(region, params.get("StackName", ""))
        script = self.bench.lifecycles.get(params.get("StackName", ""))
        if script and action == "DeleteStack":
            entry["status"] = 200
            self.bench.log_call(entry)
            return self.scripted_delete(region, params["StackName"], script)
        token = params.get("ClientRequestToken") or params.get("ClientToken")
        if token and (action, token) in self.bench.answered:
            # CloudFormation answers a repeated token with the first call's answer.
            status, answer = self.bench.answered[(action, token)]
            entry["status"] = status
            entry["fault"] = "idempotent-replay"
            self.bench.log_call(entry)
            return self.reply(status, answer)
        body = self.localize_template_url(params, body)
        status, headers, answer = self.forward(body)
        self.remember(action, params, status, answer)
        entry["status"] = status
        self.bench.log_call(entry)
        if status == 200 and script and action in ("CreateStack", "UpdateStack"):
            stack_id = self.stack_id_from(answer)
            if stack_id:
                (take_over_create if action == "CreateStack" else take_over_update)(region, stack_id, script)
        if status == 200 and script and action == "ExecuteChangeSet" and params.get("StackName"):
            # moto applies a change set at once; a scripted stack's update runs over time.
            take_over_update(region, params["StackName"], script)
        # moto's notifications of the events this call left in the log (docs/testbench.md).
        flush(min_age=1.0, stack=self.stack_id_from(answer) or params.get("StackName"))
        if status == 200 and action in self.bench.paging:
            answer = self.first_page(action, answer)
        skip = {"content-length", "transfer-encoding", "connection", "server", "date"}
        extra = {k: v for k, v in headers if k.lower() not in skip and k.lower() != "content-type"}
        content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "text/xml")
        self.reply(status, answer, content_type, extra)

    def remember(self, action, params, status, answer):
        token = params.get("ClientRequestToken") or params.get("ClientToken")
        if token and status == 200:
            with self.bench.lock:
                self.bench.answered[(action, token)] = (status, answer)

    def localize_template_url(self, params, body):
        """moto reads a path-style TemplateURL only when its host says "localhost"
        (moto/cloudformation/utils.py); nepho names the bench by 127.0.0.1. A nested stack's
        TemplateURL inside a template body (nepho's upload of a cloudlet's nested file) is
        made https: moto's ValidateTemplate runs cfn-lint, which takes only s3:// and
        https:// there, as CloudFormation's own S3 URLs are (moto reads the object in-process
        whatever the scheme; see read_loopback_template_urls)."""
        changed = False
        url = params.get("TemplateURL", "")
        if url.startswith("http://127.0.0.1:"):
            params["TemplateURL"] = url.replace("http://127.0.0.1:", "http://localhost:", 1)
            changed = True
        template = params.get("TemplateBody", "")
        if "http://127.0.0.1:" in template:
            params["TemplateBody"] = template.replace("http://127.0.0.1:", "https://127.0.0.1:")
            changed = True
        if not changed:
            return body
        return urllib.parse.urlencode(params, quote_via=urllib.parse.quote).encode()

    def plain_http(self, path, body):
        """Endpoints for HTTP client tests: /_echo tells what arrived, /_bytes?n=N sends N bytes."""
        if path.startswith("/_bytes"):
            count = int(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query)).get("n", "0"))
            return self.reply(200, b"x" * count, "application/octet-stream")
        import hashlib

        answer = {
            "method": self.command,
            "path": path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        self.reply(200, json.dumps(answer).encode(), "application/json", {"X-Echo": "yes"})

    def forward(self, body):
        connection = http.client.HTTPConnection("127.0.0.1", self.bench.moto_port, timeout=120)
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive", "content-length")
        }
        headers["Content-Length"] = str(len(body))
        connection.request(self.command, self.path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        headers = response.getheaders()
        connection.close()
        return response.status, headers, answer

    @staticmethod
    def stack_id_from(answer):
        match = re.search(rb"<StackId>([^<]+)</StackId>", answer)
        return match.group(1).decode() if match else None

    # paging: split moto's whole list into pages of the configured size
    def first_page(self, action, answer):
        ET.register_namespace("", CFN_NS)
        root = ET.fromstring(answer)
        result_name, list_name = LIST_ACTIONS[action]
        result = root.find(f"{{{CFN_NS}}}{result_name}")
        members = result.find(f"{{{CFN_NS}}}{list_name}") if result is not None else None
        if members is None:
            return answer
        for old in result.findall(f"{{{CFN_NS}}}NextToken"):
            result.remove(old)
        items = list(members)
        return self.page_document(action, root, result, members, items)

    def page_document(self, action, root, result, members, items):
        size = self.bench.paging[action]
        for item in list(members):
            members.remove(item)
        for item in items[:size]:
            members.append(item)
        rest = items[size:]
        if rest:
            token = BENCH_TOKEN_PREFIX + uuid.uuid4().hex
            with self.bench.lock:
                self.bench.pages[token] = (action, ET.tostring(root), rest)
            next_token = ET.SubElement(result, f"{{{CFN_NS}}}NextToken")
            next_token.text = token
        return ET.tostring(root, xml_declaration=False)

    def next_page(self, action, token):
        with self.bench.lock:
            stored = self.bench.pages.pop(token, None)
        if stored is None or stored[0] != action:
            return self.reply(400, error_xml("ValidationError", "Invalid NextToken"))
        _, document, rest = stored
        root = ET.fromstring(document)
        result_name, list_name = LIST_ACTIONS[action]
        result = root.find(f"{{{CFN_NS}}}{result_name}")
        members = result.find(f"{{{CFN_NS}}}{list_name}")
        for old in result.findall(f"{{{CFN_NS}}}NextToken"):
            result.remove(old)
        self.reply(200, self.page_document(action, root, result, members, rest))

    def cancel_update(self, region, name):
        """moto has no CancelUpdateStack: a scripted update in progress rolls back."""
        try:
            stack = backend(region).get_stack(name)
        except Exception:
            return self.reply(400, error_xml("ValidationError", f"Stack [{name}] does not exist"))
        if stack.status != "UPDATE_IN_PROGRESS":
            return self.reply(
                400,
                error_xml(
                    "ValidationError",
                    f"CancelUpdateStack cannot be called from current stack status {stack.status}.",
                ),
            )
        stack.nepho_cancel = True
        release_hold(stack)
        body = f'<CancelUpdateStackResponse xmlns="{CFN_NS}"><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></CancelUpdateStackResponse>'
        self.reply(200, body.encode())

    def scripted_delete(self, region, name, script):
        try:
            stack = backend(region).get_stack(name)
        except Exception:
            stack = None
        if stack is None or stack.status == "DELETE_COMPLETE":
            body = f'<DeleteStackResponse xmlns="{CFN_NS}"><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></DeleteStackResponse>'
            return self.reply(200, body.encode())
        add_event(stack, "DELETE_IN_PROGRESS", reason="User Initiated")
        start_lifecycle(run_delete, region, stack, script)
        body = f'<DeleteStackResponse xmlns="{CFN_NS}"><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></DeleteStackResponse>'
        self.reply(200, body.encode())

    def apply_fault(self, rule):
        fault = rule["fault"]
        if self.headers.get("X-Amz-Target") and fault in ("throttle", "status", "error"):
            # A JSON-protocol service (EventBridge) answers errors as JSON.
            status = int(rule.get("status", 400 if fault != "status" else 503))
            code = rule.get("code") or ("Throttling" if fault == "throttle" else "InternalFailure")
            body = json.dumps({"__type": code, "message": rule.get("message", "injected by the nepho test bench")})
            return self.reply(status, body.encode(), "application/x-amz-json-1.1")
        if fault == "throttle":
            code = rule.get("code", "Throttling")
            return self.reply(400, error_xml(code, "Rate exceeded"))
        if fault == "status":
            status = int(rule.get("status", 503))
            code = {500: "InternalFailure", 503: "ServiceUnavailable"}.get(status, "InternalFailure")
            return self.reply(status, error_xml(code, "injected by the nepho test bench", sender=False))
        if fault == "error":
            return self.reply(int(rule.get("status", 400)), error_xml(rule["code"], rule.get("message", "")))
        if fault == "answer":
            return self.reply(int(rule.get("status", 200)), rule.get("body", "").encode())
        if fault == "latency":
            time.sleep(float(rule.get("seconds", 1)))
            status, headers, answer = self.forward(self._body_for_forward)
            content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "text/xml")
            return self.reply(status, answer, content_type)
        if fault == "late":
            # moto acts and answers at once; the client gets the answer `seconds` later.
            status, headers, answer = self.forward(self._body_for_forward)
            time.sleep(float(rule.get("seconds", 1)))
            content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "text/xml")
            return self.reply(status, answer, content_type)
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if fault == "hang":
            deadline = time.monotonic() + float(rule.get("seconds", 3600))
            self.connection.setblocking(False)
            while time.monotonic() < deadline:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        break
                except BlockingIOError:
                    pass
                except OSError:
                    break
                time.sleep(0.05)
            self.close_connection = True
            return
        self.reply(500, error_xml("BenchError", f"unknown fault {fault}", sender=False))

    # --- the control interface -------------------------------------------------------
    def control(self, path, body):
        try:
            request = json.loads(body or b"{}")
            answer = self.control_answer(urllib.parse.urlsplit(path).path, request)
            flush(min_age=1.0, stack=request.get("stack_id"))  # a release completes a stack in moto
            self.reply(200, json.dumps(answer).encode(), "application/json")
        except Exception as error:  # the bench reports, never dies
            self.reply(400, json.dumps({"error": f"{type(error).__name__}: {error}"}).encode(), "application/json")

    def control_answer(self, path, request):
        bench = self.bench
        if path == "/_bench/fault":
            rule = dict(request)
            rule.setdefault("action", "*")
            rule.setdefault("times", 1)
            if rule.get("fault") not in ("throttle", "status", "error", "latency", "reset", "hang", "drop", "answer", "late"):
                raise ValueError(f"unknown fault {rule.get('fault')!r}")
            with bench.lock:
                bench.faults.append(rule)
            return {"ok": True}
        if path == "/_bench/reset":
            with bench.lock:
                bench.faults.clear()
                bench.paging.clear()
                bench.lifecycles.clear()
                bench.calls.clear()
            eventbridge["on"] = False
            return {"ok": True}
        if path == "/_bench/eventbridge":
            eventbridge["on"] = bool(request.get("on", True))
            return {"ok": True}
        if path == "/_bench/calls":
            with bench.lock:
                return {"calls": list(bench.calls)}
        if path == "/_bench/paging":
            action = request["action"]
            if action not in LIST_ACTIONS:
                raise ValueError(f"the bench cannot page {action}")
            with bench.lock:
                bench.paging[action] = int(request["page_size"])
            return {"ok": True}
        if path == "/_bench/lifecycle":
            with bench.lock:
                bench.lifecycles[request["stack"]] = request
            return {"ok": True}
        if path == "/_bench/hold-function":
            region = request.get("region", "us-east-1")
            return {"arn": create_hold_function(region, request.get("name", "nepho-bench-hold"))}
        if path == "/_bench/custom-resources":
            return {"resources": pending_custom_resources(request.get("region", "us-east-1"), request["stack_id"])}
        if path == "/_bench/release":
            return self.release(request)
        if path == "/_bench/release-hold":
            stack = backend(request.get("region", "us-east-1")).get_stack(request["stack"])
            if not release_hold(stack):
                raise ValueError(f"stack {request['stack']} has no held operation")
            return {"ok": True}
        if path == "/_bench/signal":
            stack = backend(request.get("region", "us-east-1")).get_stack(request["stack"])
            signal_event(stack, request["logical_id"], request["unique_id"], request.get("status", "SUCCESS"))
            return {"ok": True}
        raise ValueError(f"no such bench call {path}")

    def release(self, request):
        """PUTs a cfnresponse document to moto, as a Lambda behind a Custom:: resource would."""
        region = request.get("region", "us-east-1")
        stack_id = request["stack_id"]
        logical = request["logical_id"]
        resources = pending_custom_resources(region, stack_id)
        if logical not in resources:
            raise ValueError(f"stack has no pending custom resource {logical}")
        document = {
            "Status": "SUCCESS",
            "LogicalResourceId": logical,
            "RequestId": resources[logical]["RequestId"],
            "StackId": stack_id,
            "PhysicalResourceId": request.get("physical_id", logical),
            "Data": request.get("data", {}),
        }
        connection = http.client.HTTPConnection("127.0.0.1", self.bench.moto_port, timeout=60)
        target = f"/cloudformation_{region}/cfnresponse?stack={urllib.parse.quote(stack_id, safe='')}"
        connection.request("PUT", target, body=json.dumps(document), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        connection.close()
        return {"status": response.status}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def read_loopback_template_urls():
    """moto reads a nested stack's template from its S3 backend only for a URL naming
    "localhost" or amazonaws.com; nepho's URLs for the bench name 127.0.0.1 (its endpoint),
    in templates moto reads from S3 too (a nested file naming another). Such a URL is read
    as the localhost one it equals."""
    import moto.cloudformation.models as models
    import moto.cloudformation.responses as responses
    import moto.cloudformation.utils as utils

    original = utils.get_stack_from_s3_url

    def read(template_url, *args, **kwargs):
        for scheme in ("http", "https"):
            template_url = template_url.replace(f"{scheme}://127.0.0.1:", "http://localhost:", 1)
        return original(template_url, *args, **kwargs)

    utils.get_stack_from_s3_url = read
    models.get_stack_from_s3_url = read
    responses.get_stack_from_s3_url = read


def main():
    os.environ.setdefault("MOTO_CALL_RESET_API", "false")
    read_loopback_template_urls()
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    _, moto_port = moto.get_host_and_port()
    # moto builds the cfnresponse URL that a custom resource's Lambda would call from these.
    os.environ["MOTO_PORT"] = str(moto_port)
    os.environ["MOTO_HOST"] = "http://127.0.0.1"
    Handler.bench = Bench(moto_port)
    defer_moto_notifications()
    proxy = Server(("127.0.0.1", 0), Handler)
    port = proxy.server_address[1]
    threading.Thread(target=proxy.serve_forever, daemon=True).start()

    def stop(*_):
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        json.dumps(
            {
                "endpoint": f"http://127.0.0.1:{port}",
                "moto": f"http://127.0.0.1:{moto_port}",
                "region": "us-east-1",
                "pid": os.getpid(),
            }
        ),
        flush=True,
    )
    # moto prints to stdout now and then; keep the ready line alone there, and never
    # block on a pipe nobody reads: everything further goes to the log (or stderr).
    log = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if len(sys.argv) > 2 and sys.argv[1] == "--log" else 2
    os.dup2(log, 1)
    os.dup2(log, 2)
    # Live while our parent holds our standard input open.
    while sys.stdin.buffer.read(65536):
        pass
    stop()


if __name__ == "__main__":
    main()

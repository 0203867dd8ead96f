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
import io
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
import zipfile

ACCOUNT = "123456789012"
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
        self.calls = []  # dicts: action, method, path, fault, status

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
                if rule["times"] >= 0 and rule.get("used", 0) >= rule["times"]:
                    continue
                rule["used"] = rule.get("used", 0) + 1
                return dict(rule)
        return None

    def log_call(self, entry):
        with self.lock:
            self.calls.append(entry)


def backend(region):
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[ACCOUNT][region]


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


# --- lifecycles ---------------------------------------------------------------------
def add_event(stack, status, logical=None, rtype=None, physical=None, reason=None):
    from moto.cloudformation.models import Event

    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical or stack.name,
        physical_resource_id=physical if physical is not None else (stack.stack_id if logical is None else ""),
        resource_type=rtype or "AWS::CloudFormation::Stack",
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    stack.events.append(event)
    if logical is None:
        stack.status = status


def resources_of(stack):
    resources = (stack.template_dict or {}).get("Resources", {}) or {}
    found = []
    for logical, body in resources.items():
        physical = ""
        try:
            physical = stack.resource_map[logical].physical_resource_id or ""
        except Exception:
            physical = f"{stack.name}-{logical}"
        found.append((logical, (body or {}).get("Type", "AWS::CloudFormation::WaitConditionHandle"), str(physical)))
    return found


def run_create(stack, script):
    step = float(script.get("step_seconds", 0.2))
    fail = (script.get("fail") or {}).get("create")
    created = []
    for logical, rtype, physical in resources_of(stack):
        time.sleep(step)
        add_event(stack, "CREATE_IN_PROGRESS", logical, rtype, "")
        time.sleep(step)
        if logical == fail:
            reason = script.get("reason", "Resource creation cancelled by the nepho test bench")
            add_event(stack, "CREATE_FAILED", logical, rtype, physical, reason)
            time.sleep(step)
            add_event(
                stack,
                "ROLLBACK_IN_PROGRESS",
                reason=f"The following resource(s) failed to create: [{logical}]. Rollback requested by user.",
            )
            for done_logical, done_type, done_physical in reversed(created):
                time.sleep(step)
                add_event(stack, "DELETE_IN_PROGRESS", done_logical, done_type, done_physical)
                time.sleep(step)
                add_event(stack, "DELETE_COMPLETE", done_logical, done_type, done_physical)
            time.sleep(step)
            add_event(stack, "DELETE_COMPLETE", logical, rtype, physical)
            time.sleep(step)
            add_event(stack, "ROLLBACK_COMPLETE")
            return
        add_event(stack, "CREATE_COMPLETE", logical, rtype, physical)
        created.append((logical, rtype, physical))
    time.sleep(step)
    add_event(stack, "CREATE_COMPLETE")


def run_update(stack, script):
    step = float(script.get("step_seconds", 0.2))
    fail = (script.get("fail") or {}).get("update")
    updated = []
    for logical, rtype, physical in resources_of(stack):
        time.sleep(step)
        add_event(stack, "UPDATE_IN_PROGRESS", logical, rtype, physical)
        time.sleep(step)
        if logical == fail:
            reason = script.get("reason", "Resource update cancelled by the nepho test bench")
            add_event(stack, "UPDATE_FAILED", logical, rtype, physical, reason)
            time.sleep(step)
            add_event(
                stack,
                "UPDATE_ROLLBACK_IN_PROGRESS",
                reason=f"The following resource(s) failed to update: [{logical}].",
            )
            for done_logical, done_type, done_physical in reversed(updated + [(logical, rtype, physical)]):
                time.sleep(step)
                add_event(stack, "UPDATE_IN_PROGRESS", done_logical, done_type, done_physical)
                time.sleep(step)
                add_event(stack, "UPDATE_COMPLETE", done_logical, done_type, done_physical)
            time.sleep(step)
            add_event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
            time.sleep(step)
            add_event(stack, "UPDATE_ROLLBACK_COMPLETE")
            return
        add_event(stack, "UPDATE_COMPLETE", logical, rtype, physical)
        updated.append((logical, rtype, physical))
    time.sleep(step)
    add_event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    time.sleep(step)
    add_event(stack, "UPDATE_COMPLETE")


def run_delete(region, stack, script):
    step = float(script.get("step_seconds", 0.2))
    fail = (script.get("fail") or {}).get("delete")
    for logical, rtype, physical in reversed(resources_of(stack)):
        time.sleep(step)
        add_event(stack, "DELETE_IN_PROGRESS", logical, rtype, physical)
        time.sleep(step)
        if logical == fail:
            reason = script.get("reason", "Resource deletion cancelled by the nepho test bench")
            add_event(stack, "DELETE_FAILED", logical, rtype, physical, reason)
            time.sleep(step)
            add_event(stack, "DELETE_FAILED", reason=f"The following resource(s) failed to delete: [{logical}].")
            return
        add_event(stack, "DELETE_COMPLETE", logical, rtype, physical)
    time.sleep(step)
    events_before = len(stack.events)
    backend(region).delete_stack(stack.stack_id)
    # moto's own delete adds "DELETE_IN_PROGRESS (User Initiated)" and "DELETE_COMPLETE";
    # the first was already told, so keep only the second.
    added = stack.events[events_before:]
    stack.events[events_before:] = [e for e in added if e.resource_status != "DELETE_IN_PROGRESS"]


def start_lifecycle(target, *args):
    threading.Thread(target=target, args=args, daemon=True).start()


def take_over_create(region, stack_id, script):
    stack = backend(region).get_stack(stack_id)
    # moto created everything at once: keep its "User Initiated" event, tell the rest over time.
    stack.events[:] = [e for e in stack.events if e.resource_status != "CREATE_COMPLETE"]
    stack.status = "CREATE_IN_PROGRESS"
    start_lifecycle(run_create, stack, script)


def take_over_update(region, stack_id, script):
    stack = backend(region).get_stack(stack_id)
    if stack.events and stack.events[-1].resource_status == "UPDATE_COMPLETE":
        stack.events.pop()
    stack.status = "UPDATE_IN_PROGRESS"
    start_lifecycle(run_update, stack, script)


# --- hold a build open ----------------------------------------------------------------
def create_hold_function(region, name):
    from moto.awslambda.models import lambda_backends
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT]["global"]
    role_name = "nepho-bench-hold"
    try:
        role = iam.get_role(role_name)
    except Exception:
        role = iam.create_role(
            role_name=role_name,
            assume_role_policy_document=json.dumps({"Version": "2012-10-17", "Statement": []}),
            path="/",
            permissions_boundary=None,
            description="nepho test bench",
            tags=[],
            max_session_duration=3600,
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
    spec = {
        "FunctionName": name,
        "Runtime": "python3.11",
        "Role": role.arn,
        "Handler": "index.handler",
        "Code": {"ZipFile": buffer.getvalue()},
        "Timeout": 3,
        "MemorySize": 128,
        "Publish": True,
    }
    function = lambda_backends[ACCOUNT][region].create_function(spec)
    return function.function_arn


def pending_custom_resources(region, stack_id):
    stack = backend(region).get_stack(stack_id)
    return {
        logical: {"RequestId": resource.request_id, "Finished": resource.is_created()}
        for logical, resource in stack.custom_resources.items()
    }


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
        action = params.get("Action") or f"{self.command} {urllib.parse.urlsplit(path).path}"
        entry = {"action": action, "method": self.command, "path": path, "fault": None, "status": None}
        self._body_for_forward = body
        rule = self.bench.take_fault(action, self.command, path)
        if rule:
            entry["fault"] = rule["fault"]
            self.bench.log_call(entry)
            return self.apply_fault(rule)
        region = region_of(self.headers)
        # Our own pages of a list moto answers whole.
        token = params.get("NextToken", "")
        if token.startswith(BENCH_TOKEN_PREFIX):
            entry["status"] = 200
            self.bench.log_call(entry)
            return self.next_page(action, token)
        script = self.bench.lifecycles.get(params.get("StackName", ""))
        if script and action == "DeleteStack":
            entry["status"] = 200
            self.bench.log_call(entry)
            return self.scripted_delete(region, params["StackName"], script)
        body = self.localize_template_url(params, body)
        status, headers, answer = self.forward(body)
        entry["status"] = status
        self.bench.log_call(entry)
        if status == 200 and script and action in ("CreateStack", "UpdateStack"):
            stack_id = self.stack_id_from(answer)
            if stack_id:
                (take_over_create if action == "CreateStack" else take_over_update)(region, stack_id, script)
        if status == 200 and action in self.bench.paging:
            answer = self.first_page(action, answer)
        skip = {"content-length", "transfer-encoding", "connection", "server", "date"}
        extra = {k: v for k, v in headers if k.lower() not in skip and k.lower() != "content-type"}
        content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "text/xml")
        self.reply(status, answer, content_type, extra)

    def localize_template_url(self, params, body):
        """moto reads a path-style TemplateURL only when its host says "localhost"
        (moto/cloudformation/utils.py); nepho names the bench by 127.0.0.1."""
        url = params.get("TemplateURL", "")
        if not url.startswith("http://127.0.0.1:"):
            return body
        params["TemplateURL"] = url.replace("http://127.0.0.1:", "http://localhost:", 1)
        return urllib.parse.urlencode(params, quote_via=urllib.parse.quote).encode()

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
        if fault == "throttle":
            code = rule.get("code", "Throttling")
            return self.reply(400, error_xml(code, "Rate exceeded"))
        if fault == "status":
            status = int(rule.get("status", 503))
            code = {500: "InternalFailure", 503: "ServiceUnavailable"}.get(status, "InternalFailure")
            return self.reply(status, error_xml(code, "injected by the nepho test bench", sender=False))
        if fault == "error":
            return self.reply(int(rule.get("status", 400)), error_xml(rule["code"], rule.get("message", "")))
        if fault == "latency":
            time.sleep(float(rule.get("seconds", 1)))
            status, headers, answer = self.forward(self._body_for_forward)
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
            self.reply(200, json.dumps(answer).encode(), "application/json")
        except Exception as error:  # the bench reports, never dies
            self.reply(400, json.dumps({"error": f"{type(error).__name__}: {error}"}).encode(), "application/json")

    def control_answer(self, path, request):
        bench = self.bench
        if path == "/_bench/fault":
            rule = dict(request)
            rule.setdefault("action", "*")
            rule.setdefault("times", 1)
            if rule.get("fault") not in ("throttle", "status", "error", "latency", "reset", "hang"):
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


def main():
    os.environ.setdefault("MOTO_CALL_RESET_API", "false")
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    _, moto_port = moto.get_host_and_port()
    # moto builds the cfnresponse URL that a custom resource's Lambda would call from these.
    os.environ["MOTO_PORT"] = str(moto_port)
    os.environ["MOTO_HOST"] = "http://127.0.0.1"
    Handler.bench = Bench(moto_port)
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

"""Stack lifecycles over time and held builds, on moto's backend (nepho's test bench).

Used by cfn_bench.py; docs/testbench.md says what each sequence looks like and where
it goes beyond moto.
"""

import base64
import calendar
import io
import json
import threading
import time
import zipfile

ACCOUNT = "123456789012"


def backend(region):
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[ACCOUNT][region]


# --- notifications ------------------------------------------------------------------
# CloudFormation publishes each stack event to the stack's NotificationARNs (SNS). moto
# does so as it records an event, but the bench removes some of moto's events (a scripted
# stack's, which the bench tells over time instead): moto's notifications are held back
# and sent only for events still in the stack's log, and the bench's own events are sent
# as it adds them, in order.

_pending = []  # (event, account, region, arns, monotonic time)
_pending_lock = threading.Lock()
_publish = None
# CloudFormation also sends every stack's events to EventBridge's default bus (whatever the
# stack's NotificationARNs); moto's CloudFormation does not. While this is on (the bench's
# /_bench/eventbridge), the bench puts each event there as CloudFormation would, and moto's
# EventBridge hands it to the rules that match (docs/testbench.md).
eventbridge = {"on": False}


def publish_eventbridge(event, account, region):
    """Puts `event` on the default bus in the shape of AWS's documentation (CloudFormation
    User Guide, "Stack Status Change event detail", "Resource Status Change event detail"):
    source aws.cloudformation, the stack id in `resources`, `time` in whole seconds."""
    from moto.events.models import events_backends

    status = {"status": event.resource_status, "status-reason": event.resource_status_reason or ""}
    stack_level = event.resource_type == "AWS::CloudFormation::Stack" and event.logical_resource_id == event.stack_name
    if stack_level:
        kind = "CloudFormation Stack Status Change"
        detail = {
            "stack-id": event.stack_id,
            "status-details": status,
            "client-request-token": event.client_request_token or "",
        }
    else:
        kind = "CloudFormation Resource Status Change"
        detail = {
            "stack-id": event.stack_id,
            "logical-resource-id": event.logical_resource_id,
            "physical-resource-id": event.physical_resource_id or "",
            "status-details": status,
            "resource-type": event.resource_type,
            "client-request-token": event.client_request_token or "",
        }
    answer = events_backends[account][region].put_events(
        [
            {
                "Source": "aws.cloudformation",
                "DetailType": kind,
                "Detail": json.dumps(detail),
                "Resources": [event.stack_id],
                # PutEvents takes a number of seconds (moto's SQS target fails on a string);
                # moto delivers it as AWS does, ISO 8601 in whole seconds.
                "Time": calendar.timegm(event.timestamp.utctimetuple()),
            }
        ]
    )
    if any("ErrorCode" in entry for entry in answer):
        print(f"EventBridge event of {event.event_id} not put: {answer}", flush=True)


def publish_sns(event, account, region, arns):
    """The notification CloudFormation publishes for a stack event. moto's own
    (Event.sendToSns) leaves out PhysicalResourceId, which CloudFormation's carries (a
    nested stack's resource names the nested stack's ARN there)."""
    from moto.core.utils import iso_8601_datetime_with_milliseconds
    from moto.sns.models import sns_backends

    message = f"""StackId='{event.stack_id}'
Timestamp='{iso_8601_datetime_with_milliseconds(event.timestamp)}'
EventId='{event.event_id}'
LogicalResourceId='{event.logical_resource_id}'
Namespace='{account}'
PhysicalResourceId='{event.physical_resource_id or ""}'
ResourceProperties='{event.resource_properties}'
ResourceStatus='{event.resource_status}'
ResourceStatusReason='{event.resource_status_reason}'
ResourceType='{event.resource_type}'
StackName='{event.stack_name}'
ClientRequestToken='{event.client_request_token}'"""
    for arn in arns:
        sns_backends[account][region].publish(message, subject="AWS CloudFormation Notification", arn=arn)


def _send(event, account, region, arns):
    if arns:
        publish_sns(event, account, region, arns)
    if eventbridge["on"]:
        publish_eventbridge(event, account, region)


def defer_moto_notifications():
    global _publish
    from moto.cloudformation.models import Event

    if _publish is not None:
        return
    _publish = Event.sendToSns

    def deferred(event, account_id, region, arns):
        if arns or eventbridge["on"]:
            with _pending_lock:
                _pending.append((event, account_id, region, list(arns), time.monotonic()))

    Event.sendToSns = deferred

    def flusher():
        while True:
            time.sleep(0.2)
            flush(min_age=1.0)

    threading.Thread(target=flusher, daemon=True).start()


def _still_recorded(event, region):
    try:
        stack = backend(region).get_stack(event.stack_id)
    except Exception:
        return True
    return any(e is event for e in stack.events)


def flush(min_age=0.0, stack=None):
    """Sends moto's held notifications whose event is still recorded: those at least
    min_age seconds old, and every one of `stack` (a name or id) when given."""
    if _publish is None:
        return
    now = time.monotonic()

    def due_now(entry):
        event = entry[0]
        return now - entry[4] >= min_age or (stack is not None and stack in (event.stack_name, event.stack_id))

    with _pending_lock:
        due = [p for p in _pending if due_now(p)]
        _pending[:] = [p for p in _pending if not due_now(p)]
    for event, account, region, arns, _ in due:
        if _still_recorded(event, region):
            try:
                _send(event, account, region, arns)
            except Exception as error:  # a topic deleted meanwhile: CloudFormation drops it too
                print(f"notification of {event.event_id} not sent: {error}", flush=True)


def notify(stack, event):
    flush(stack=stack.stack_id)
    if _publish is not None and (stack.notification_arns or eventbridge["on"]):
        try:
            _send(event, stack.account_id, stack.region_name, stack.notification_arns)
        except Exception as error:
            print(f"notification of {event.event_id} not sent: {error}", flush=True)


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
    notify(stack, event)


def nested_stack(stack, logical):
    """The stack moto made for the nested stack resource `logical` of `stack` (moto creates
    it at once from the TemplateURL, named PARENT-LOGICAL-SUFFIX), or None."""
    try:
        child = stack.resource_map[logical]
    except Exception:
        return None
    return child if hasattr(child, "stack_id") and hasattr(child, "events") else None


def resources_of(stack):
    resources = (stack.template_dict or {}).get("Resources", {}) or {}
    found = []
    for logical, body in resources.items():
        physical = ""
        try:
            physical = stack.resource_map[logical].physical_resource_id or ""
        except Exception:
            physical = f"{stack.name}-{logical}"
        child = nested_stack(stack, logical)
        if child is not None:
            # CloudFormation's PhysicalResourceId of a nested stack is its ARN (moto: its name).
            physical = child.stack_id
        found.append((logical, (body or {}).get("Type", "AWS::CloudFormation::WaitConditionHandle"), str(physical)))
    return found


def start_step(stack, script, operation, logical, announce):
    """Calls `announce` (which adds the resource's IN_PROGRESS event); then, when the
    script holds `operation` at `logical`, waits until the bench releases the stack
    (`/_bench/release-hold`) or an update is cancelled, at most an hour. The hold is in
    place before the event is, so whoever sees the event can release it."""
    if (script.get("hold") or {}).get(operation) != logical:
        announce()
        return
    released = threading.Event()
    stack.nepho_hold = (logical, released)
    announce()
    if getattr(stack, "nepho_cancel", False):
        released.set()
    released.wait(3600)
    stack.nepho_hold = None


def release_hold(stack):
    """Lets a held scripted operation go on; False when nothing is held."""
    held = getattr(stack, "nepho_hold", None)
    if not held:
        return False
    held[1].set()
    return True


def signal_event(stack, logical, unique_id, status="SUCCESS"):
    """The event CloudFormation records when a wait condition receives a signal."""
    resources = {entry[0]: entry for entry in resources_of(stack)}
    if logical not in resources:
        raise ValueError(f"stack has no resource {logical}")
    _, rtype, physical = resources[logical]
    phase = "CREATE_IN_PROGRESS" if stack.status.startswith("CREATE") else "UPDATE_IN_PROGRESS"
    add_event(stack, phase, logical, rtype, physical, f"Received {status} signal with UniqueId {unique_id}")


def dependencies_of(stack):
    """What each resource of the stack's template waits for: DependsOn, and the resources
    Ref, Fn::GetAtt and Fn::Sub name (as CloudFormation orders a create)."""
    import re

    resources = (stack.template_dict or {}).get("Resources", {}) or {}
    names = set(resources)

    def refs(node, found):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Ref" and isinstance(value, str):
                    found.add(value)
                elif key == "Fn::GetAtt":
                    first = value[0] if isinstance(value, list) and value else str(value).split(".")[0]
                    found.add(first)
                elif key == "Fn::Sub":
                    text = value[0] if isinstance(value, list) else value
                    for name in re.findall(r"\$\{([^!}][^}]*)\}", str(text)):
                        found.add(name.split(".")[0])
                    if isinstance(value, list) and len(value) > 1:
                        refs(value[1], found)
                else:
                    refs(value, found)
        elif isinstance(node, list):
            for item in node:
                refs(item, found)

    result = {}
    for logical, body in resources.items():
        found = set()
        depends = (body or {}).get("DependsOn") or []
        found.update([depends] if isinstance(depends, str) else depends)
        refs((body or {}).get("Properties") or {}, found)
        result[logical] = (found & names) - {logical}
    return result


def run_create_timed(stack, script):
    """A create with a duration per resource (`durations`: logical id -> seconds): each
    resource starts once those it waits for are complete, so independent ones run at once,
    as CloudFormation does (bench/eta replays builds this way)."""
    durations = script.get("durations") or {}
    waits = dependencies_of(stack)
    kinds = {logical: (rtype, physical) for logical, rtype, physical in resources_of(stack)}
    ends = {}
    done = set()
    time.sleep(0.05)
    while len(done) < len(kinds):
        now = time.monotonic()
        for logical in [name for name, end in ends.items() if name not in done and end <= now]:
            rtype, physical = kinds[logical]
            add_event(stack, "CREATE_COMPLETE", logical, rtype, physical)
            done.add(logical)
        for logical, (rtype, _) in kinds.items():
            if logical not in ends and waits.get(logical, set()) <= done:
                add_event(stack, "CREATE_IN_PROGRESS", logical, rtype, "")
                ends[logical] = time.monotonic() + float(durations.get(logical, 0.2))
        time.sleep(0.01)
    time.sleep(0.05)
    add_event(stack, "CREATE_COMPLETE")


def quiet_nested(stack):
    """moto made the nested stacks of `stack` at once: they start over when their resource
    does (every event removed, CREATE_IN_PROGRESS), and so do theirs."""
    for logical, _, _ in resources_of(stack):
        child = nested_stack(stack, logical)
        if child is not None:
            child.events[:] = []
            child.status = "CREATE_IN_PROGRESS"
            quiet_nested(child)


def run_nested_create(stack, logical, rtype, child, step, fail=None):
    """A nested stack's create as CloudFormation tells it: the parent's resource starts,
    the nested stack's own "User Initiated" event, the parent's "Resource creation
    Initiated" with the nested stack's ARN, the nested stack's resources one by one in its
    own events (and its nested stacks likewise), its CREATE_COMPLETE, and the parent's.
    `fail` (a logical id in the nested stack, `Inner/Id` deeper) fails there: the nested
    stack rolls back in its own events; False then."""
    add_event(child, "CREATE_IN_PROGRESS", reason="User Initiated")
    time.sleep(step)
    add_event(stack, "CREATE_IN_PROGRESS", logical, rtype, child.stack_id, "Resource creation Initiated")
    return run_create(child, {"step_seconds": step, "fail": {"create": fail} if fail else {}})


def run_create(stack, script):
    if script.get("durations"):
        return run_create_timed(stack, script)
    step = float(script.get("step_seconds", 0.2))
    fail = (script.get("fail") or {}).get("create")
    created = []
    for logical, rtype, physical in resources_of(stack):
        time.sleep(step)
        start_step(
            stack, script, "create", logical, lambda: add_event(stack, "CREATE_IN_PROGRESS", logical, rtype, "")
        )
        time.sleep(step)
        child = nested_stack(stack, logical)
        reason = script.get("reason", "Resource creation cancelled by the nepho test bench")
        if child is not None and logical != fail:
            # A failure inside the nested stack (`fail` = "Logical/Inner"): it rolls back,
            # then its resource here fails and this stack rolls back.
            inner = fail[len(logical) + 1 :] if fail and fail.startswith(logical + "/") else None
            if not run_nested_create(stack, logical, rtype, child, step, inner):
                fail = logical
                reason = (
                    f"Embedded stack {child.stack_id} was not successfully created: "
                    f"The following resource(s) failed to create: [{inner.split('/')[0]}]. "
                )
            time.sleep(step)
        if logical == fail:
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
            return False
        add_event(stack, "CREATE_COMPLETE", logical, rtype, physical)
        created.append((logical, rtype, physical))
    time.sleep(step)
    add_event(stack, "CREATE_COMPLETE")
    return True


def run_update(stack, script):
    step = float(script.get("step_seconds", 0.2))
    fail = (script.get("fail") or {}).get("update")
    updated = []
    stack.nepho_cancel = False
    for logical, rtype, physical in resources_of(stack):
        time.sleep(step)
        start_step(
            stack, script, "update", logical, lambda: add_event(stack, "UPDATE_IN_PROGRESS", logical, rtype, physical)
        )
        time.sleep(step)
        cancelled = getattr(stack, "nepho_cancel", False)
        if logical == fail or cancelled:
            reason = "Resource update cancelled" if cancelled else script.get(
                "reason", "Resource update failed in the nepho test bench"
            )
            add_event(stack, "UPDATE_FAILED", logical, rtype, physical, reason)
            time.sleep(step)
            add_event(
                stack,
                "UPDATE_ROLLBACK_IN_PROGRESS",
                reason="User Initiated" if cancelled else f"The following resource(s) failed to update: [{logical}].",
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


def nested_stacks_below(stack):
    """Every nested stack of `stack`, deepest last."""
    found = []
    for logical, _, _ in resources_of(stack):
        child = nested_stack(stack, logical)
        if child is not None:
            found.append(child)
            found += nested_stacks_below(child)
    return found


def run_nested_delete(child, step):
    """A nested stack's delete in its own events, as CloudFormation tells it between its
    parent's DELETE_IN_PROGRESS and DELETE_COMPLETE of its resource: "User Initiated",
    its resources in reverse (its nested stacks likewise), its DELETE_COMPLETE."""
    add_event(child, "DELETE_IN_PROGRESS", reason="User Initiated")
    for logical, rtype, physical in reversed(resources_of(child)):
        time.sleep(step)
        add_event(child, "DELETE_IN_PROGRESS", logical, rtype, physical)
        grandchild = nested_stack(child, logical)
        if grandchild is not None:
            time.sleep(step)
            run_nested_delete(grandchild, step)
        time.sleep(step)
        add_event(child, "DELETE_COMPLETE", logical, rtype, physical)
    time.sleep(step)
    add_event(child, "DELETE_COMPLETE")


def run_delete(region, stack, script):
    step = float(script.get("step_seconds", 0.2))
    fail = (script.get("fail") or {}).get("delete")
    nested = nested_stacks_below(stack)
    for logical, rtype, physical in reversed(resources_of(stack)):
        time.sleep(step)
        add_event(stack, "DELETE_IN_PROGRESS", logical, rtype, physical)
        time.sleep(step)
        child = nested_stack(stack, logical)
        if child is not None and logical != fail:
            run_nested_delete(child, step)
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
    nested_before = [(child, len(child.events)) for child in nested]
    backend(region).delete_stack(stack.stack_id)
    # moto's own delete adds "DELETE_IN_PROGRESS (User Initiated)" and "DELETE_COMPLETE";
    # the first was already told, so keep only the second.
    added = stack.events[events_before:]
    stack.events[events_before:] = [e for e in added if e.resource_status != "DELETE_IN_PROGRESS"]
    # moto deletes the nested stacks too: their deletes were told already.
    for child, count in nested_before:
        child.events[count:] = []
        child.status = "DELETE_COMPLETE"
    flush(stack=stack.stack_id)


def start_lifecycle(target, *args):
    threading.Thread(target=target, args=args, daemon=True).start()


def take_over_create(region, stack_id, script):
    stack = backend(region).get_stack(stack_id)
    # moto created everything at once: keep its "User Initiated" event, tell the rest over time.
    stack.events[:] = [e for e in stack.events if e.resource_status != "CREATE_COMPLETE"]
    stack.status = "CREATE_IN_PROGRESS"
    quiet_nested(stack)
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
        "Code": {"ZipFile": base64.b64encode(buffer.getvalue()).decode()},  # as the Lambda API carries it
        "Timeout": 3,
        "MemorySize": 128,
        "Publish": True,
    }
    functions = lambda_backends[ACCOUNT][region]
    try:
        return functions.get_function(name).function_arn
    except Exception:
        pass
    function = functions.create_function(spec)
    return function.function_arn


def pending_custom_resources(region, stack_id):
    stack = backend(region).get_stack(stack_id)
    return {
        logical: {"RequestId": resource.request_id, "Finished": resource.is_created()}
        for logical, resource in stack.custom_resources.items()
    }

"""The least-privilege AWS IoT policy for one device: exactly what the device client uses.

The device (src/main.cpp, lib/AwsIotDevice/src/core/aws_iot_topics.*) connects with client id =
thing name, publishes devices/<thing>/telemetry and devices/<thing>/status (retained
"online", and a retained "offline" last will), subscribes to devices/<thing>/commands;
the library's Device Shadow (core/aws_iot_shadow.*, examples/device_shadow) uses the
thing's classic shadow topics (named shadows are not in the policy). One more
topic, devices/<thing>/probe, is for `probe` (espaws/rig/probe.py): it connects from the PC
with the device's own files and does a publish/subscribe round trip there, so it must be
allowed for the probe to tell a policy problem from a working setup.

Two shapes, one function:
- per thing (default, policy `<thing>-policy`): the thing name written into every ARN;
- shared (`--policy NAME`, for fleets): `${iot:Connection.Thing.ThingName}` in place of the
  name, so one policy serves every device. AWS fills that variable from the thing attached
  to the connecting certificate, so it holds only when the thing is attached (register does
  that) and the device's client id is its thing name (the device client does that).
"""

import json
import re

THING_VARIABLE = "${iot:Connection.Thing.ThingName}"

# Classic shadow: the device publishes requests and receives the answers.
SHADOW_REQUESTS = ("get", "update", "delete")
SHADOW_ANSWERS = ("get/accepted", "get/rejected", "update/accepted", "update/rejected",
                  "update/delta", "update/documents", "delete/accepted", "delete/rejected")


def check_thing_name(name):
    """None when `name` is a valid thing name, else why not (identity/thing.py: the rule the device
    and thing.txt follow)."""
    from ..identity import thing
    if not name:
        return "the thing name is empty: pass --thing NAME or set AWS_IOT_THING_NAME"
    return thing.problem(name)


def policy_name_for(thing):
    """`<thing>-policy`; a ':' (allowed in thing names, not in policy names) becomes '_'."""
    return re.sub(r"[^\w+=,.@-]", "_", thing) + "-policy"


def device_topics(thing):
    """{'publish': [...], 'retain': [...], 'receive': [...], 'subscribe': [...]} for `thing`."""
    base = f"devices/{thing}"
    shadow = f"$aws/things/{thing}/shadow"
    answers = [f"{shadow}/{a}" for a in SHADOW_ANSWERS]
    probe = f"{base}/probe"
    return {
        "publish": [f"{base}/telemetry", f"{base}/status"] + [f"{shadow}/{r}" for r in SHADOW_REQUESTS] + [probe],
        "retain": [f"{base}/status"],  # "online" and the last will are retained
        "receive": [f"{base}/commands"] + answers + [probe],
        "subscribe": [f"{base}/commands"] + answers + [probe],
    }


def document(thing=None, region="*", account="*", partition="aws"):
    """The policy document as a dict. thing=None gives the shared (policy variable) form."""
    name = thing if thing is not None else THING_VARIABLE
    arn = f"arn:{partition}:iot:{region}:{account}"
    topics = device_topics(name)
    statements = [
        ("Connect", ["iot:Connect"], [f"{arn}:client/{name}"]),
        ("Publish", ["iot:Publish"], [f"{arn}:topic/{t}" for t in topics["publish"]]),
        ("RetainPublish", ["iot:RetainPublish"], [f"{arn}:topic/{t}" for t in topics["retain"]]),
        ("Receive", ["iot:Receive"], [f"{arn}:topic/{t}" for t in topics["receive"]]),
        ("Subscribe", ["iot:Subscribe"], [f"{arn}:topicfilter/{t}" for t in topics["subscribe"]]),
    ]
    return {"Version": "2012-10-17",
            "Statement": [{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
                          for sid, actions, resources in statements]}


def render(doc):
    """Stable text: sorted keys, so an unchanged policy compares equal."""
    return json.dumps(doc, indent=2, sort_keys=True)


def parse(text):
    """A policy document from AWS's JSON text (boto3 may already give a dict), or None when it is not JSON."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def arn_parts(arn):
    """(partition, region, account) of an AWS ARN such as a certificate ARN."""
    parts = arn.split(":")
    return parts[1], parts[3], parts[4]


def requests_for(thing):
    """[(action, resource suffix)] the device makes: what check --aws asks AWS (or the policy) about."""
    topics = device_topics(thing)
    wanted = [("iot:Connect", f"client/{thing}")]
    wanted += [("iot:Publish", f"topic/{t}") for t in topics["publish"][:2]]
    wanted += [("iot:RetainPublish", f"topic/{t}") for t in topics["retain"]]
    wanted += [("iot:Subscribe", f"topicfilter/{t}") for t in topics["subscribe"][:1]]
    wanted += [("iot:Receive", f"topic/{t}") for t in topics["receive"][:1]]
    return wanted


def allows(doc, action, resource, thing):
    """Whether policy `doc` allows `action` on the full ARN `resource` for a device named `thing`.

    The subset of IoT policy evaluation our checks need: Allow/Deny statements, `*` and `?`
    wildcards in actions and resources, and the thing-name policy variable. An explicit Deny wins.
    """
    allowed = False
    for statement in _statements(doc):
        actions = _list(statement.get("Action"))
        resources = [r.replace(THING_VARIABLE, thing) for r in _list(statement.get("Resource"))]
        if any(_matches(a, action) for a in actions) and any(_matches(r, resource) for r in resources):
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _statements(doc):
    statements = doc.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _list(value):
    return value if isinstance(value, list) else [value] if value else []


def _matches(pattern, text):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.S | re.I if pattern.startswith("iot:") else re.S) is not None

"""The pure parts of the AWS side: the least-privilege policy, thing names, the .env edit."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from espaws.aws import dotenv_edit, policy

ARN = "arn:aws:iot:eu-west-1:123456789012"


def test_per_thing_policy_allows_exactly_the_device_clients_topics():
    doc = policy.document("dev-1", "eu-west-1", "123456789012")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["Connect"]["Resource"] == [f"{ARN}:client/dev-1"]
    assert by_sid["Publish"]["Resource"][:2] == [f"{ARN}:topic/devices/dev-1/telemetry",
                                                  f"{ARN}:topic/devices/dev-1/status"]
    assert by_sid["RetainPublish"]["Resource"] == [f"{ARN}:topic/devices/dev-1/status"]
    assert by_sid["Subscribe"]["Resource"][0] == f"{ARN}:topicfilter/devices/dev-1/commands"
    assert by_sid["Receive"]["Resource"][0] == f"{ARN}:topic/devices/dev-1/commands"
    assert f"{ARN}:topic/$aws/things/dev-1/shadow/update" in by_sid["Publish"]["Resource"]
    assert f"{ARN}:topicfilter/$aws/things/dev-1/shadow/update/delta" in by_sid["Subscribe"]["Resource"]
    assert all("*" not in r for s in doc["Statement"] for r in s["Resource"])
    assert {a for s in doc["Statement"] for a in s["Action"]} == {
        "iot:Connect", "iot:Publish", "iot:RetainPublish", "iot:Receive", "iot:Subscribe"}


@pytest.mark.parametrize("action,resource,allowed", [
    ("iot:Connect", "client/dev-1", True),
    ("iot:Connect", "client/dev-2", False),
    ("iot:Publish", "topic/devices/dev-1/telemetry", True),
    ("iot:Publish", "topic/devices/dev-1/commands", False),  # the cloud publishes commands
    ("iot:Publish", "topic/devices/dev-2/telemetry", False),
    ("iot:RetainPublish", "topic/devices/dev-1/telemetry", False),
    ("iot:Subscribe", "topicfilter/devices/dev-1/commands", True),
    ("iot:Subscribe", "topicfilter/devices/#", False),
    ("iot:Receive", "topic/devices/dev-1/commands", True),
    ("iot:DeleteThing", "thing/dev-1", False),
    ("iot:Publish", "topic/devices/dev-1/probe", True),  # the PC probe's round trip
    ("iot:Subscribe", "topicfilter/devices/dev-1/probe", True),
])
@pytest.mark.parametrize("shared", [False, True])
def test_the_policy_allows_the_device_and_nothing_else(action, resource, allowed, shared):
    doc = policy.document(None if shared else "dev-1", "eu-west-1", "123456789012")
    assert policy.allows(doc, action, f"{ARN}:{resource}", "dev-1") is allowed


def test_every_request_the_device_makes_is_allowed():
    doc = policy.document("dev-1", "eu-west-1", "123456789012")
    for action, resource in policy.requests_for("dev-1"):
        assert policy.allows(doc, action, f"{ARN}:{resource}", "dev-1"), (action, resource)


def test_shared_policy_uses_the_thing_name_variable():
    text = policy.render(policy.document(None, "eu-west-1", "123456789012"))
    assert "client/${iot:Connection.Thing.ThingName}" in text
    assert "dev-1" not in text


def test_explicit_deny_wins_and_wildcards_match():
    doc = {"Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": f"{ARN}:*"},
                         {"Effect": "Deny", "Action": ["iot:Publish"], "Resource": [f"{ARN}:topic/secret/*"]}]}
    assert policy.allows(doc, "iot:Publish", f"{ARN}:topic/devices/x", "x")
    assert not policy.allows(doc, "iot:Publish", f"{ARN}:topic/secret/x", "x")


def test_policy_names_from_thing_names():
    assert policy.policy_name_for("dev-1") == "dev-1-policy"
    assert policy.policy_name_for("site:7_a") == "site_7_a-policy"


@pytest.mark.parametrize("name,ok", [("dev-1", True), ("a:b_c-D9", True), ("x" * 128, True), ("x" * 129, False),
                                     ("", False), ("with space", False), ("a/b", False), ("näme", False)])
def test_thing_names_follow_the_devices_rule(name, ok):
    assert (policy.check_thing_name(name) is None) is ok


@pytest.mark.parametrize("before,after", [
    (b"", b"AWS_IOT_ENDPOINT=e.example\nAWS_IOT_THING_NAME=t\n"),
    (b"A=1", b"A=1\nAWS_IOT_ENDPOINT=e.example\nAWS_IOT_THING_NAME=t\n"),
    (b"\xef\xbb\xbf# c\r\nA='x y' # keep\r\nAWS_IOT_THING_NAME=old\r\n",
     b"\xef\xbb\xbf# c\r\nA='x y' # keep\r\nAWS_IOT_THING_NAME=t\r\nAWS_IOT_ENDPOINT=e.example\r\n"),
    (b"export AWS_IOT_ENDPOINT=\"old\"\n#AWS_IOT_THING_NAME=commented\nAWS_IOT_THING_NAME = x\n",
     b"export AWS_IOT_ENDPOINT=e.example\n#AWS_IOT_THING_NAME=commented\nAWS_IOT_THING_NAME=t\n"),
])
def test_dotenv_edit_keeps_every_other_byte(before, after):
    assert dotenv_edit.set_values(before, {"AWS_IOT_ENDPOINT": "e.example", "AWS_IOT_THING_NAME": "t"}) == after


def test_dotenv_edit_replaces_a_value_over_several_lines_whole():
    before = b'A=1\nAWS_IOT_ENDPOINT="old\nstill old"\nB=2\n'
    assert dotenv_edit.set_values(before, {"AWS_IOT_ENDPOINT": "e.example"}) == b"A=1\nAWS_IOT_ENDPOINT=e.example\nB=2\n"


def test_dotenv_edit_leaves_lines_inside_another_quoted_value_alone():
    # A PEM kept in .env: its lines are part of NOTE's value, even one that looks like an assignment.
    before = b'NOTE="first line\nAWS_IOT_THING_NAME=inside\n"\nAWS_IOT_THING_NAME=old\n'
    after = dotenv_edit.set_values(before, {"AWS_IOT_THING_NAME": "t"})
    assert after == b'NOTE="first line\nAWS_IOT_THING_NAME=inside\n"\nAWS_IOT_THING_NAME=t\n'


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_dotenv_edit_with_nothing_to_set_returns_the_same_bytes(data):
    assert dotenv_edit.set_values(data, {}) == data


def test_dotenv_edit_is_read_back_by_the_plugin(tmp_path):
    from espaws.settings import secrets
    (tmp_path / ".env").write_bytes(dotenv_edit.set_values(b"WIFI_SSID=x\n", {"AWS_IOT_ENDPOINT": "a b\"c"}))
    assert secrets.read_dotenv(tmp_path)["AWS_IOT_ENDPOINT"] == 'a b"c'


def test_readme_iam_policy_lists_every_call_the_aws_verbs_make():
    import json
    import re
    from conftest import REPO
    sources = "".join((REPO / "extra_scripts" / "espaws" / "aws" / name).read_text()
                      for name in ("register.py", "verify.py", "fleet.py"))
    called = {f"iot:{op}" for op in re.findall(r'\b(?:read|write)\(\s*"(\w+)"', sources)} | {"iot:TestAuthorization"}
    readme = (REPO / "README.md").read_text()
    block = re.search(r'```json\n(\{\n  "Version".*?"EspAwsRegister".*?)\n```', readme, re.S).group(1)
    assert set(json.loads(block)["Statement"][0]["Action"]) == called


def _client_error(code, message, status=400):
    from botocore.exceptions import ClientError
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "CreateThing")


@pytest.mark.parametrize("error,says", [
    (lambda: _client_error("AccessDeniedException", "User: arn:aws:iam::1:user/u is not authorized to perform: "
                           "iot:CreateThing on resource: arn:aws:iot:eu-west-1:1:thing/x", 403),
     "AWS denied iot:CreateThing"),
    (lambda: _client_error("AccessDeniedException", "", 403), "AWS denied iot:CreateThing"),
    (lambda: _client_error("ThrottlingException", "Rate exceeded", 429), "kept throttling CreateThing"),
    (lambda: _client_error("UnrecognizedClientException", "The security token included in the request is invalid"),
     "rejected the credentials"),
    (lambda: _client_error("ExpiredTokenException", "expired"), "rejected the credentials"),
    (lambda: _client_error("InvalidRequestException", "bad thing"), "AWS CreateThing failed: InvalidRequestException"),
])
def test_aws_errors_are_one_line_with_what_to_do(error, says):
    from espaws.aws.session import explain
    line = explain(error(), "CreateThing")
    assert says in line and "\n" not in line and "arn:aws:iam" not in line


def test_connection_and_sso_errors():
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError, SSOTokenLoadError
    from espaws.aws.session import explain
    assert "cannot reach AWS IoT (http://127.0.0.1:9)" in explain(
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "CreateThing")
    assert "aws sso login" in explain(SSOTokenLoadError(error_msg="x"), "CreateThing")
    assert "no AWS credentials" in explain(NoCredentialsError(), "CreateThing")


def test_policy_topics_are_the_ones_the_device_client_builds():
    # The device's topics come from the library's core (aws_iot_topics.cpp, aws_iot_shadow.cpp):
    # a change there must show up here, or registered devices would be disconnected by their policy.
    import re
    from conftest import REPO
    core = REPO / "lib" / "AwsIotDevice" / "src" / "core"
    source = (core / "aws_iot_topics.cpp").read_text()
    prefix = re.search(r'kPrefix\[\] = "([^"]+)"', source).group(1)
    suffixes = dict(re.findall(r'case TopicKind::k(\w+): return (?:AWS_IOT_TEXT\()?"([^"]+)"', source))
    assert set(suffixes) == {"Telemetry", "Status", "Commands"}
    topic = {kind: f"{prefix}dev-1{suffix}" for kind, suffix in suffixes.items()}
    topics = policy.device_topics("dev-1")
    assert set(topics["publish"]) >= {topic["Telemetry"], topic["Status"]}
    assert topics["retain"] == [topic["Status"]]
    assert topic["Commands"] in topics["subscribe"] and topic["Commands"] in topics["receive"]
    shadow = dict(re.findall(r'case ShadowTopic::k(\w+): return "([^"]+)"', (core / "aws_iot_shadow.cpp").read_text()))
    assert len(shadow) == 11
    for kind, suffix in shadow.items():
        name = f"$aws/things/dev-1/shadow{suffix}"
        if kind in ("Get", "Update", "Delete"):
            assert name in topics["publish"], name
        else:
            assert name in topics["subscribe"] and name in topics["receive"], name
    from espaws.rig import probe
    probe_topic = probe.default_topic("dev-1")
    assert all(probe_topic in topics[kind] for kind in ("publish", "subscribe", "receive"))


def test_policy_documents_read_from_aws_text():
    doc = policy.document("dev-1", "eu-west-1", "123456789012")
    assert policy.parse(policy.render(doc)) == doc
    assert policy.parse(doc) is doc  # boto3 may hand over a parsed document
    assert policy.parse("not json {") is None

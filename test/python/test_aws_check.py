"""check --aws against the stand-in: each AWS-side cause of a silent disconnect is one line."""

import json

import boto3
import pytest

import awsstandin
from awsstandin import STANDIN
from conftest import run_cli

THING = "porch-light"


@pytest.fixture
def registered(tmp_path, moto_url, monkeypatch):
    awsstandin.reset(moto_url)
    STANDIN.failures.clear()
    env = {**awsstandin.aws_environment(moto_url), "AWS_EC2_METADATA_DISABLED": "true"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    project = tmp_path / "proj"
    result = run_cli("register", "--project-dir", project, "--thing", THING, env=env)
    assert result.returncode == 0, result.stderr
    return project, env, boto3.client("iot")


def check_aws(project, env, **extra):
    return run_cli("check", "--aws", "--project-dir", project, env={**env, **extra})


def cert_of(iot):
    [cert] = iot.list_certificates()["certificates"]
    return cert


def problems(result):
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def test_a_registered_project_passes(registered):
    project, env, _ = registered
    result = check_aws(project, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ACTIVE" in result.stdout and f"attached to thing {THING}" in result.stdout
    # moto has no TestAuthorization (HTTP 500): said so, and the policy text is checked instead.
    assert "not checked by AWS" in result.stdout
    assert f"the policies allow iot:Connect as {THING}" in result.stdout
    assert "aws: ok" in result.stdout


def test_test_authorization_answers_where_the_account_offers_it(registered):
    project, env, _ = registered
    telemetry = f"topic/devices/{THING}/telemetry"
    STANDIN.authorize = lambda kind, resource: "IMPLICIT_DENY" if resource.endswith(telemetry) else "ALLOWED"
    try:
        result = check_aws(project, env)
    finally:
        STANDIN.authorize = None
    assert "TestAuthorization answered" in result.stdout and "not checked by AWS" not in result.stdout
    [line] = problems(result)
    assert f"do not allow iot:Publish on {telemetry}" in line


def test_inactive_certificate(registered):
    project, env, iot = registered
    iot.update_certificate(certificateId=cert_of(iot)["certificateId"], newStatus="INACTIVE")
    [line] = problems(check_aws(project, env))
    assert "is INACTIVE" in line


def test_no_policy_attached(registered):
    project, env, iot = registered
    iot.detach_policy(policyName=f"{THING}-policy", target=cert_of(iot)["certificateArn"])
    [line] = problems(check_aws(project, env))
    assert "no policy is attached" in line


def test_a_policy_that_misses_a_topic(registered):
    project, env, iot = registered
    arn = cert_of(iot)["certificateArn"]
    iot.detach_policy(policyName=f"{THING}-policy", target=arn)
    narrow = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iot:Connect", "iot:Subscribe", "iot:Receive"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:RetainPublish"],
         "Resource": f"arn:aws:iot:*:*:topic/devices/{THING}/status"}]}
    iot.create_policy(policyName="narrow", policyDocument=json.dumps(narrow))
    iot.attach_policy(policyName="narrow", target=arn)
    [line] = problems(check_aws(project, env))
    assert f"do not allow iot:Publish on topic/devices/{THING}/telemetry" in line


def test_client_id_other_than_the_thing(registered):
    project, env, _ = registered
    lines = problems(check_aws(project, env, AWS_IOT_THING_NAME="someone-else"))
    assert any("not attached to thing someone-else" in line for line in lines)
    assert any("iot:Connect on client/someone-else" in line for line in lines)


@pytest.mark.parametrize("endpoint,why", [("abc123-ats.iot.eu-west-1.amazonaws.com", "not this account's"),
                                          ("abc123.iot.eu-west-1.amazonaws.com", "legacy"),
                                          ("ABC123.iot.eu-west-1.amazonaws.com.:8883", "legacy")])
def test_wrong_or_legacy_endpoint(registered, endpoint, why):
    project, env, iot = registered
    [line] = problems(check_aws(project, env, AWS_IOT_ENDPOINT=endpoint))
    assert why in line and iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"] in line


def test_certificate_unknown_to_this_account(registered, tmp_path):
    from pkitools import Identity
    _, env, _ = registered
    project = tmp_path / "other"
    Identity(kind="ec").write_aws_style(project / "certs", with_ca=False)
    [line] = problems(check_aws(project, env, AWS_IOT_ENDPOINT="x-ats.iot.eu-west-1.amazonaws.com"))
    assert "not registered in AWS IoT" in line


def test_platformio_targets_register_and_check_aws(tmp_path, moto_url, monkeypatch):
    # Real PlatformIO on the stand-in platform: `pio run -t iot-register` with the thing name from
    # AWS_IOT_THING_NAME, then `iot-check` asking AWS when custom_aws_iot_check_aws = yes.
    import piohelpers as ph
    awsstandin.reset(moto_url)
    env = {**awsstandin.aws_environment(moto_url), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_IOT_THING_NAME": THING}
    project = ph.write_project(tmp_path / "p", {"esp8266": ph.env_options(
        "espressif8266", extra_scripts=[ph.plugin_extra_script()], custom_aws_iot_check_aws="yes",
        custom_aws_iot_certs_dir="identity")},
        sources={"main.c": "int main(void) { return 0; }\n"})

    registered = ph.run_pio(project, "run", "-t", "iot-register", env=env)

    assert registered.returncode == 0, ph.output(registered)
    assert f"done: {THING} registered" in registered.stdout
    assert len(list((project / "identity").glob("*-private.pem.key"))) == 1  # the env's certs folder
    checked = ph.run_pio(project, "run", "-t", "iot-check", env=env)
    assert checked.returncode == 0, ph.output(checked)
    assert "aws: ok, AWS will accept this device" in checked.stdout
    denied = ph.run_pio(project, "run", "-t", "iot-check", env={**env, "AWS_IOT_THING_NAME": "other"})
    assert denied.returncode != 0 and "not attached to thing other" in ph.output(denied)
    assert "Traceback" not in ph.output(denied)

"""register against moto's real HTTP server (see awsstandin.py for where it is corrected to
answer as AWS does): the certificate carries the key made here, a rerun changes nothing,
an interrupted run is completed, and every failure is one line."""

import json
import os
import stat
import sys

import boto3
import pytest

import awsstandin
from awsstandin import STANDIN
from conftest import run_cli, snapshot

THING = "kitchen-sensor-1"


@pytest.fixture
def iot(aws):
    return boto3.client("iot")


def register(project, env, *args):
    return run_cli("register", "--project-dir", project, *args, env=env)


def one_line_error(result):
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def aws_state(iot):
    certs = iot.list_certificates()["certificates"]
    return {
        "certificates": sorted((c["certificateId"], c["status"]) for c in certs),
        "things": sorted(t["thingName"] for t in iot.list_things()["things"]),
        "principals": {t["thingName"]: sorted(iot.list_thing_principals(thingName=t["thingName"])["principals"])
                       for t in iot.list_things()["things"]},
        "policies": sorted(p["policyName"] for p in iot.list_policies()["policies"]),
        "attached": {c["certificateId"]: sorted(p["policyName"] for p in
                                                iot.list_attached_policies(target=c["certificateArn"])["policies"])
                     for c in certs},
    }


def installed_identity(project):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    certs = sorted((project / "certs").glob("*-certificate.pem.crt"))
    keys = sorted((project / "certs").glob("*-private.pem.key"))
    assert len(certs) == 1 and len(keys) == 1, os.listdir(project / "certs")
    return (certs[0], keys[0], x509.load_pem_x509_certificate(certs[0].read_bytes()),
            serialization.load_pem_private_key(keys[0].read_bytes(), None))


# ---- the first run ------------------------------------------------------------------------------

def test_register_makes_everything_and_the_certificate_carries_the_key_made_here(tmp_path, aws, iot):
    from espaws.aws import certfiles, policy
    project = tmp_path / "proj"
    project.mkdir()
    env_text = b"\xef\xbb\xbf# my network\r\nWIFI_SSID=home\r\nexport AWS_IOT_ENDPOINT=old.example.com\r\nX=1"
    (project / ".env").write_bytes(env_text)

    result = register(project, aws, "--thing", THING)

    assert result.returncode == 0, result.stdout + result.stderr
    cert_path, key_path, cert, key = installed_identity(project)
    cert_id = certfiles.certificate_id(cert)
    assert cert_path.name == f"{cert_id[:10]}-certificate.pem.crt"
    assert key_path.name == f"{cert_id[:10]}-private.pem.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert certfiles.same_key(cert, key)  # AWS (the corrected stand-in) signed the CSR's key
    assert cert.issuer == STANDIN.ca_cert.subject
    assert not (project / "certs" / ".pending").exists()

    state = aws_state(iot)
    assert state["certificates"] == [(cert_id, "ACTIVE")]
    assert state["things"] == [THING]
    assert state["principals"][THING] == [iot.describe_certificate(certificateId=cert_id)
                                          ["certificateDescription"]["certificateArn"]]
    assert state["attached"] == {cert_id: [f"{THING}-policy"]}
    document = json.loads(iot.get_policy(policyName=f"{THING}-policy")["policyDocument"])
    assert document == policy.document(THING, awsstandin.REGION, "123456789012")

    endpoint = iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
    assert endpoint.endswith(f"-ats.iot.{awsstandin.REGION}.amazonaws.com")
    assert (project / ".env").read_bytes() == (
        b"\xef\xbb\xbf# my network\r\nWIFI_SSID=home\r\nexport AWS_IOT_ENDPOINT=" + endpoint.encode()
        + b"\r\nX=1\r\nAWS_IOT_THING_NAME=" + THING.encode() + b"\r\n")
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
    # Nothing secret on the screen: not the key, not the credentials.
    assert "PRIVATE KEY" not in result.stdout + result.stderr
    assert aws["AWS_SECRET_ACCESS_KEY"] not in result.stdout.replace("testing", "")


def test_rerun_registers_nothing_new_and_touches_no_file(tmp_path, aws, iot):
    project = tmp_path / "proj"
    assert register(project, aws, "--thing", THING).returncode == 0
    before, files = aws_state(iot), snapshot(project)

    again = register(project, aws, "--thing", THING)

    assert again.returncode == 0, again.stderr
    assert "nothing new" in again.stdout
    assert aws_state(iot) == before
    assert snapshot(project) == files


def test_thing_name_comes_from_dotenv_when_not_given(tmp_path, aws, iot):
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".env").write_text(f"AWS_IOT_THING_NAME={THING}\n")
    result = register(project, aws)
    assert result.returncode == 0, result.stderr
    assert aws_state(iot)["things"] == [THING]


def test_dry_run_prints_the_calls_and_changes_nothing(tmp_path, aws, iot):
    project = tmp_path / "proj"
    project.mkdir()

    result = register(project, aws, "--thing", THING, "--dry-run")

    assert result.returncode == 0, result.stderr
    calls = [line.split("(")[0] for line in result.stdout.splitlines() if line.startswith("would call ")]
    assert calls == ["would call " + c for c in ("CreateCertificateFromCsr", "CreateThing", "AttachThingPrincipal",
                                                 "CreatePolicy", "AttachPolicy", "UpdateCertificate")]
    assert "would set AWS_IOT_ENDPOINT and AWS_IOT_THING_NAME in .env" in result.stdout
    assert list(project.iterdir()) == []
    assert aws_state(iot) == {"certificates": [], "things": [], "principals": {}, "policies": [], "attached": {}}


def test_dry_run_after_registration_has_nothing_to_do(tmp_path, aws, iot):
    project = tmp_path / "proj"
    assert register(project, aws, "--thing", THING).returncode == 0
    result = register(project, aws, "--thing", THING, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would call" not in result.stdout and "0 change(s)" in result.stdout


# ---- interrupted runs -----------------------------------------------------------------------------

def test_a_run_stopped_between_two_calls_is_completed_not_duplicated(tmp_path, aws, iot):
    project = tmp_path / "proj"
    STANDIN.fail_once("AttachPolicy")

    stopped = register(project, aws, "--thing", THING)

    assert "AttachPolicy" in one_line_error(stopped)
    assert [status for _, status in aws_state(iot)["certificates"]] == ["INACTIVE"]  # useless until finished
    resumed = register(project, aws, "--thing", THING)
    assert resumed.returncode == 0, resumed.stderr
    state = aws_state(iot)
    assert len(state["certificates"]) == 1 and state["certificates"][0][1] == "ACTIVE"
    assert list(state["attached"].values()) == [[f"{THING}-policy"]]
    assert len(state["principals"][THING]) == 1


def test_a_crash_after_aws_issued_the_certificate_finds_it_again(tmp_path, aws, iot, monkeypatch):
    # The process dies after CreateCertificateFromCsr answered, before the certificate reached
    # the disk: only the pending key is left. The rerun finds the certificate AWS issued for it.
    from espaws.aws import certfiles
    from espaws.aws.register import Registration
    from espaws.aws.session import Iot, iot_client
    project = tmp_path / "proj"

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")
    monkeypatch.setattr(certfiles, "install", crash)
    with pytest.raises(KeyboardInterrupt):
        Registration(Iot(iot_client(), say=lambda line: None), project, "certs", THING).register()
    monkeypatch.undo()
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    pending = project / "certs" / ".pending" / f"{THING}-private.pem.key"
    assert pending.is_file() and stat.S_IMODE(pending.stat().st_mode) == 0o600
    assert len(aws_state(iot)["certificates"]) == 1

    resumed = register(project, aws, "--thing", THING)

    assert resumed.returncode == 0, resumed.stderr
    assert "issued for this key" in resumed.stdout
    _, _, cert, key = installed_identity(project)
    assert certfiles.same_key(cert, key)
    assert aws_state(iot)["certificates"] == [(certfiles.certificate_id(cert), "ACTIVE")]


def test_a_crash_before_the_certificate_was_made_reuses_the_pending_key(tmp_path, aws, iot):
    project = tmp_path / "proj"
    STANDIN.fail_once("CreateCertificateFromCsr")
    assert "CreateCertificateFromCsr" in one_line_error(register(project, aws, "--thing", THING))
    pending = (project / "certs" / ".pending" / f"{THING}-private.pem.key").read_bytes()

    assert register(project, aws, "--thing", THING).returncode == 0

    _, key_path, _, _ = installed_identity(project)
    assert key_path.read_bytes() == pending
    assert len(aws_state(iot)["certificates"]) == 1


# ---- rotation -----------------------------------------------------------------------------------

def test_rotate_replaces_the_certificate_and_deactivates_the_old_one_afterwards(tmp_path, aws, iot):
    from espaws.aws import certfiles
    project = tmp_path / "proj"
    assert register(project, aws, "--thing", THING).returncode == 0
    old_cert_path, _, old_cert, _ = installed_identity(project)
    old_id = certfiles.certificate_id(old_cert)

    rotated = register(project, aws, "--thing", THING, "--rotate")

    assert rotated.returncode == 0, rotated.stderr
    _, _, new_cert, new_key = installed_identity(project)
    new_id = certfiles.certificate_id(new_cert)
    assert new_id != old_id and certfiles.same_key(new_cert, new_key)
    state = aws_state(iot)
    assert dict(state["certificates"]) == {old_id: "INACTIVE", new_id: "ACTIVE"}
    new_arn = iot.describe_certificate(certificateId=new_id)["certificateDescription"]["certificateArn"]
    assert state["principals"][THING] == [new_arn]
    assert (project / "certs" / ".retired" / old_cert_path.name).is_file()
    assert "nothing new" in register(project, aws, "--thing", THING).stdout


def test_rotate_retires_an_identity_whose_key_is_encrypted(tmp_path, aws, iot):
    """The passphrase that opens the installed key also lets the rotation find it to retire."""
    from cryptography.hazmat.primitives import serialization
    project = tmp_path / "proj"
    assert register(project, aws, "--thing", THING).returncode == 0
    old_cert_path, old_key_path, _, old_key = installed_identity(project)
    old_key_path.write_bytes(old_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.BestAvailableEncryption(b"pass-phrase-9")))

    rotated = register(project, {**aws, "AWS_IOT_KEY_PASSPHRASE": "pass-phrase-9"}, "--thing", THING, "--rotate")

    assert rotated.returncode == 0, rotated.stderr
    installed_identity(project)  # exactly one certificate and one key left in certs/
    assert sorted(p.name for p in (project / "certs" / ".retired").iterdir()) == sorted(
        [old_cert_path.name, old_key_path.name])
    assert "pass-phrase-9" not in rotated.stdout + rotated.stderr


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="file names that are not UTF-8: Linux only")
def test_installed_identity_paths_are_the_files_even_when_their_names_are_not_utf8(tmp_path):
    from espaws.aws import certfiles
    from pkitools import Identity, key_pem, pem
    identity = Identity()
    certs = tmp_path / "certs"
    certs.mkdir()
    cert_file = os.path.join(os.fsencode(certs), b"dev\xff-certificate.pem.crt")
    with open(cert_file, "wb") as out:
        out.write(pem(identity.cert))
    (certs / "dev-private.pem.key").write_bytes(key_pem(identity.key))
    found = certfiles.installed(certs)
    assert os.fsencode(found.cert_path) == cert_file and found.key_path == certs / "dev-private.pem.key"


# ---- bad paths: one line each -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["my thing", "a/b", "x" * 129, "thing!"])
def test_invalid_thing_name(tmp_path, aws, iot, name):
    line = one_line_error(register(tmp_path, aws, "--thing", name))
    assert "thing name" in line
    assert aws_state(iot)["things"] == [] and list(tmp_path.iterdir()) == []


def test_no_thing_name_at_all(tmp_path, aws):
    assert "AWS_IOT_THING_NAME" in one_line_error(register(tmp_path, aws))


def test_no_credentials(tmp_path, aws, iot):
    result = _without_credentials(tmp_path, aws)
    assert "no AWS credentials" in one_line_error(result)
    assert not (tmp_path / "certs").exists() and aws_state(iot)["things"] == []


def _without_credentials(project, aws):
    import subprocess
    import sys
    from conftest import SCRIPT, clean_environ
    environ = {k: v for k, v in clean_environ(**aws).items() if k not in awsstandin.FAKE_CREDENTIALS}
    return subprocess.run([sys.executable, str(SCRIPT), "register", "--project-dir", str(project),
                           "--thing", THING], capture_output=True, text=True, env=environ, timeout=120)


def test_unknown_profile(tmp_path, aws):
    line = one_line_error(register(tmp_path, aws, "--thing", THING, "--profile", "nope"))
    assert "profile 'nope'" in line


def test_access_denied_names_the_missing_iam_action(tmp_path, aws, iot):
    STANDIN.deny("AttachPolicy")
    result = register(tmp_path / "proj", aws, "--thing", THING)
    line = one_line_error(result)
    assert "AWS denied iot:AttachPolicy" in line and "IAM policy" in line
    assert "arn:aws:iam" not in line  # the user's ARN is not needed to fix it


def test_throttling_is_retried_with_backoff(tmp_path, aws, iot):
    STANDIN.throttle("CreateThing", 2)
    result = register(tmp_path / "proj", aws, "--thing", THING)
    assert result.returncode == 0, result.stderr
    assert aws_state(iot)["things"] == [THING]
    assert "CreateThing" not in STANDIN.failures or not STANDIN.failures["CreateThing"]


def test_throttling_that_does_not_stop_is_one_line(tmp_path, aws, iot):
    STANDIN.throttle("CreateThing", 10)
    result = register(tmp_path / "proj", {**aws, "AWS_MAX_ATTEMPTS": "3"}, "--thing", THING)
    line = one_line_error(result)
    assert "throttling CreateThing" in line and "run the same command again" in line
    assert len(STANDIN.failures["CreateThing"]) == 7  # AWS_MAX_ATTEMPTS honoured: 3 attempts


def test_a_certificate_of_another_thing_is_not_taken_over(tmp_path, aws, iot):
    project = tmp_path / "proj"
    assert register(project, aws, "--thing", THING).returncode == 0
    before = aws_state(iot)
    line = one_line_error(register(project, aws, "--thing", "other-thing"))
    assert f"belongs to thing {THING}" in line
    assert aws_state(iot) == before


def test_a_certificate_unknown_to_aws_is_reported(tmp_path, aws):
    from pkitools import Identity
    project = tmp_path / "proj"
    Identity(kind="ec").write_aws_style(project / "certs", with_ca=False)
    line = one_line_error(register(project, aws, "--thing", THING))
    assert "is not registered in AWS IoT" in line and "--region" in line


def test_a_crash_between_writing_the_certificate_and_moving_the_key(tmp_path, aws, iot, monkeypatch):
    # certs/ holds the new certificate, the key is still pending: the rerun finishes the move.
    from espaws.aws import certfiles
    from espaws.aws.register import Registration
    from espaws.aws.session import Iot, iot_client
    project = tmp_path / "proj"
    real_replace = certfiles.os.replace

    def crash(source, target):
        if str(source).endswith(f"{THING}-private.pem.key"):
            raise KeyboardInterrupt("power cut")
        return real_replace(source, target)
    monkeypatch.setattr(certfiles.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        Registration(Iot(iot_client(), say=lambda line: None), project, "certs", THING).register()
    monkeypatch.setattr(certfiles.os, "replace", real_replace)
    assert len(list((project / "certs").glob("*-certificate.pem.crt"))) == 1
    assert not list((project / "certs").glob("*-private.pem.key"))

    resumed = register(project, aws, "--thing", THING)

    assert resumed.returncode == 0, resumed.stderr
    _, _, cert, key = installed_identity(project)
    assert certfiles.same_key(cert, key)
    assert aws_state(iot)["certificates"] == [(certfiles.certificate_id(cert), "ACTIVE")]


def test_an_interrupted_rotation_is_finished_by_a_plain_rerun(tmp_path, aws, iot):
    from espaws.aws import certfiles
    project = tmp_path / "proj"
    assert register(project, aws, "--thing", THING).returncode == 0
    old_id = certfiles.certificate_id(installed_identity(project)[2])
    STANDIN.fail_once("UpdateCertificate")  # the new certificate's activation

    assert "UpdateCertificate" in one_line_error(register(project, aws, "--thing", THING, "--rotate"))
    new_id = certfiles.certificate_id(installed_identity(project)[2])
    assert dict(aws_state(iot)["certificates"]) == {old_id: "ACTIVE", new_id: "INACTIVE"}  # the board still works

    assert register(project, aws, "--thing", THING).returncode == 0
    assert dict(aws_state(iot)["certificates"]) == {old_id: "INACTIVE", new_id: "ACTIVE"}


def test_rsa_key_on_request(tmp_path, aws, iot):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from espaws.aws import certfiles
    project = tmp_path / "proj"
    result = register(project, aws, "--thing", THING, "--key-type", "rsa")
    assert result.returncode == 0, result.stderr
    _, _, cert, key = installed_identity(project)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048 and certfiles.same_key(cert, key)
    prepared = run_cli("prepare", "--project-dir", project, "--target", "esp8266")
    assert prepared.returncode == 0, prepared.stderr
    assert "RSA-2048" in prepared.stdout

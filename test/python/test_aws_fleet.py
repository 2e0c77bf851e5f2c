"""register --count / --things-file: one folder per device in the layout batch reads, resumable."""

import json
import stat

import boto3
import pytest

from awsstandin import STANDIN
from conftest import run_cli, snapshot


def fleet_state(iot):
    certs = iot.list_certificates()["certificates"]
    return (sorted(t["thingName"] for t in iot.list_things()["things"]),
            sorted(c["status"] for c in certs),
            sorted(p["policyName"] for p in iot.list_policies()["policies"]))


def test_count_registers_one_folder_per_device_and_batch_reads_them(tmp_path, aws):
    from espaws.aws import certfiles
    iot = boto3.client("iot")
    project = tmp_path / "proj"
    project.mkdir()

    result = run_cli("register", "--project-dir", project, "--count", "3", "--prefix", "sensor-", env=aws)

    assert result.returncode == 0, result.stdout + result.stderr
    names = ["sensor-001", "sensor-002", "sensor-003"]
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:3]] == names
    assert fleet_state(iot) == (names, ["ACTIVE"] * 3, ["sensor-policy"])
    shared = json.loads(iot.get_policy(policyName="sensor-policy")["policyDocument"])
    assert "${iot:Connection.Thing.ThingName}" in json.dumps(shared)
    for name in names:
        folder = project / "devices" / name
        assert (folder / "thing.txt").read_bytes() == name.encode()
        [key] = folder.glob("*-private.pem.key")
        [cert] = folder.glob("*-certificate.pem.crt")
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        arn = iot.describe_certificate(certificateId=certfiles.certificate_id(
            certfiles.installed(folder).cert))["certificateDescription"]["certificateArn"]
        assert iot.list_principal_things(principal=arn)["things"] == [name]
    assert "AWS_IOT_ENDPOINT=" in (project / ".env").read_text()
    assert "AWS_IOT_THING_NAME" not in (project / ".env").read_text()  # per device: thing.txt

    batch = run_cli("batch", project / "devices", "--out", tmp_path / "out", "--target", "esp32")
    assert batch.returncode == 0, batch.stdout + batch.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == names


def test_rerun_changes_nothing(tmp_path, aws):
    iot = boto3.client("iot")
    project = tmp_path / "proj"
    args = ("register", "--project-dir", project, "--count", "2", "--prefix", "lamp-")
    assert run_cli(*args, env=aws).returncode == 0
    before, files = fleet_state(iot), snapshot(project)

    again = run_cli(*args, env=aws)

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[:2] == ["lamp-001: nothing new", "lamp-002: nothing new"]
    assert fleet_state(iot) == before and snapshot(project) == files


def test_a_run_stopped_half_way_is_completed_without_duplicates(tmp_path, aws):
    iot = boto3.client("iot")
    project = tmp_path / "proj"
    args = ("register", "--project-dir", project, "--count", "3", "--prefix", "door-")
    STANDIN.fail_once("AttachThingPrincipal", after=1)  # the second device stops half way

    stopped = run_cli(*args, env=aws)

    assert stopped.returncode == 1
    errors = stopped.stderr.strip().splitlines()
    assert errors[0].startswith("error: door-002: AWS AttachThingPrincipal failed")
    assert errors[-1] == "error: stopped at door-002 (1 of 3 done): run the same command again to continue"
    assert "Traceback" not in stopped.stderr
    resumed = run_cli(*args, env=aws)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines()[0] == "door-001: nothing new"
    assert fleet_state(iot) == (["door-001", "door-002", "door-003"], ["ACTIVE"] * 3, ["door-policy"])


def test_throttling_is_retried_across_the_fleet(tmp_path, aws):
    STANDIN.throttle("CreateCertificateFromCsr", 3)
    result = run_cli("register", "--project-dir", tmp_path, "--count", "2", "--prefix", "t-", env=aws)
    assert result.returncode == 0, result.stderr
    assert len(boto3.client("iot").list_certificates()["certificates"]) == 2


def test_things_file(tmp_path, aws):
    (tmp_path / "things.txt").write_text("# bench\nalpha\n\nbeta\r\n", encoding="utf-8")
    result = run_cli("register", "--project-dir", tmp_path, "--things-file", tmp_path / "things.txt",
                     "--policy", "bench-policy", env=aws)
    assert result.returncode == 0, result.stderr
    assert fleet_state(boto3.client("iot")) == (["alpha", "beta"], ["ACTIVE"] * 2, ["bench-policy"])


@pytest.mark.parametrize("args,says", [
    (("--count", "2"), "--prefix"),
    (("--count", "0", "--prefix", "x-"), "between 1 and"),
    (("--count", "2", "--prefix", "bad name "), "thing name may only hold"),
    (("--things-file", "missing.txt"), "cannot read"),
])
def test_bad_fleet_arguments_are_one_line(tmp_path, aws, args, says):
    result = run_cli("register", "--project-dir", tmp_path, *args, env=aws, cwd=tmp_path)
    assert result.returncode == 1 and says in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "devices").exists()


def test_duplicate_names_in_the_file(tmp_path, aws):
    (tmp_path / "t.txt").write_text("a\nb\na\n")
    result = run_cli("register", "--project-dir", tmp_path, "--things-file", tmp_path / "t.txt", env=aws)
    assert result.returncode == 1 and "a is listed twice" in result.stderr


def test_fleet_dry_run_prints_each_devices_calls_and_changes_nothing(tmp_path, aws):
    result = run_cli("register", "--project-dir", tmp_path, "--count", "2", "--prefix", "d-", "--dry-run", env=aws)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("would call CreateCertificateFromCsr") == 2
    assert result.stdout.count("would call CreatePolicy") == 2  # nothing exists yet, for either
    assert "d-002: dry run: 6 change(s) needed" in result.stdout
    assert list(tmp_path.iterdir()) == []
    assert fleet_state(boto3.client("iot")) == ([], [], [])


def test_change_counts_are_per_device(tmp_path, aws):
    result = run_cli("register", "--project-dir", tmp_path, "--count", "2", "--prefix", "c-", env=aws)
    lines = result.stdout.splitlines()
    # The second device reuses the fleet's policy: one call fewer (no CreatePolicy).
    assert lines[0] == "c-001: registered (6 change(s) in AWS)"
    assert lines[1] == "c-002: registered (5 change(s) in AWS)"

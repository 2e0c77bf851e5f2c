"""End to end: register against the stand-in, `prepare`, then the board's own TLS library
(BearSSL for esp8266, mbedTLS for esp32) makes the MQTT round trip with exactly the files in
data/, through a local mosquitto that trusts the stand-in's signing CA, as AWS IoT trusts its own."""

import logging
import shutil

import pytest

import awsstandin
from awsstandin import STANDIN
from conftest import run_cli
from tlsfixtures import native_build_dir, require_library, require_mosquitto  # noqa: F401

THING = "e2e-thing"
logging.getLogger("werkzeug").setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A project registered against the stand-in, with the stand-in's CA as the board's trust anchor
    (the local broker's server certificate is signed by it, as Amazon Root CA 1 signs AWS's)."""
    project = tmp_path_factory.mktemp("e2e") / "proj"
    project.mkdir()
    (project / ".env").write_text("WIFI_SSID=net\nWIFI_PASSWORD=pw\n")
    with awsstandin.running_moto() as url:
        env = {**awsstandin.aws_environment(url), "AWS_EC2_METADATA_DISABLED": "true"}
        result = run_cli("register", "--project-dir", project, "--thing", THING, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    return project


@pytest.mark.parametrize("target", ["esp8266", "esp32"])
def test_prepare_needs_no_further_step_after_register(registered, tmp_path, target):
    # As a user would: register, then prepare with what register left (Amazon's roots are added).
    prepared = run_cli("prepare", "--project-dir", registered, "--target", target, "--data-dir", tmp_path / "d")
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    assert "-ats.iot.eu-west-1.amazonaws.com" in (registered / ".env").read_text()


@pytest.mark.parametrize("target,library", [("esp8266", "bearssl"), ("esp32", "mbedtls")])
def test_register_prepare_and_round_trip(registered, tmp_path, native_build_dir, target, library):  # noqa: F811
    from espaws.rig import broker, probe
    require_mosquitto()
    require_library(library)
    # The board trusts the stand-in's CA here, as it trusts Amazon's roots with AWS: a copy of the
    # project with that CA in certs/, pointed at the local broker.
    project = tmp_path / "proj"
    shutil.copytree(registered, project)
    (project / "certs" / "standin-ca.pem").write_bytes(STANDIN.ca_pem)
    data = tmp_path / "data"
    with broker.running_broker(tmp_path / "broker", STANDIN.ca_pem, STANDIN.ca_key_pem, ("localhost",),
                               bind="127.0.0.1") as running:
        prepared = run_cli("prepare", "--project-dir", project, "--target", target, "--data-dir", data,
                           env={"AWS_IOT_ENDPOINT": f"localhost:{running.port}"})
        assert prepared.returncode == 0, prepared.stdout + prepared.stderr
        files = probe.data_files(data, target)
        outcome = probe.run_probe(files, "localhost", running.port, client_id=THING, library=library,
                                  timeout_s=10, build_dir=native_build_dir)
    assert outcome.ok, f"{outcome.layer}: {outcome.detail} {outcome.steps}"
    assert outcome.library == library
    assert [name for name, _ in outcome.steps][-3:] == ["mqtt-connect", "mqtt-subscribe", "mqtt-publish"]

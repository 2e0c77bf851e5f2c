"""The probe verb and its function API: endpoint, files, library choice, report, what to fix."""

import argparse

import pytest

from espaws.rig import broker, native, probe
from tlsfixtures import (DEVICE_NAME, dev_ca, explain, native_build_dir,  # noqa: F401
                         require_library, require_mosquitto, running_broker, write_data_files)


@pytest.fixture()
def project(tmp_path, dev_ca):
    """A project whose data/ holds esp8266 files for a good device."""
    write_data_files(tmp_path / "data", "esp8266", [dev_ca.cert_pem], *dev_ca.device())
    return tmp_path


def test_endpoint_and_client_id_from_the_environment(project, running_broker, native_build_dir):
    require_library("bearssl")
    environ = {"AWS_IOT_ENDPOINT": f"localhost:{running_broker.port}",
               "AWS_IOT_THING_NAME": "thing-42"}
    outcome = probe.probe(project, environ=environ, build_dir=native_build_dir, timeout_s=5)
    assert outcome.ok, explain(outcome)
    assert outcome.library == "bearssl"
    assert "client id thing-42" in dict(outcome.steps)["mqtt-connect"]
    assert "thing-42/probe" in dict(outcome.steps)["mqtt-subscribe"]


def test_client_id_from_the_images_thing_name_first(project, running_broker, native_build_dir):
    """As the device does: data/thing.txt before AWS_IOT_THING_NAME."""
    require_library("bearssl")
    (project / "data" / "thing.txt").write_bytes(b"thing-from-image")
    environ = {"AWS_IOT_ENDPOINT": f"localhost:{running_broker.port}", "AWS_IOT_THING_NAME": "thing-42"}
    outcome = probe.probe(project, environ=environ, build_dir=native_build_dir, timeout_s=5)
    assert outcome.ok, explain(outcome)
    assert "client id thing-from-image" in dict(outcome.steps)["mqtt-connect"]


def test_no_endpoint_says_what_to_set(project):
    with pytest.raises(probe.ProbeSetupError, match="AWS_IOT_ENDPOINT"):
        probe.probe(project, environ={})


def test_missing_files_say_to_run_prepare(tmp_path):
    with pytest.raises(probe.ProbeSetupError, match="prepare"):
        probe.probe(tmp_path, "esp32", "localhost", environ={})


def test_target_is_detected_from_data(project):
    assert probe.data_files(project / "data").target == "esp8266"


def test_both_targets_in_data_need_target(project, dev_ca):
    # prepare keeps one target's files per folder; a folder copied together by hand can hold both.
    write_data_files(project / "data", "esp32", [dev_ca.cert_pem], *dev_ca.device(), validated=False)
    with pytest.raises(probe.ProbeSetupError, match="--target"):
        probe.data_files(project / "data")
    assert probe.data_files(project / "data", "esp32").cert.name == "cert.pem"


def test_falls_back_to_python_ssl_and_says_so(project, running_broker, native_build_dir,
                                              monkeypatch):
    require_mosquitto()

    def unavailable(library, build_dir):
        raise native.NativeBuildError("<bearssl.h> is missing: apt-get install libbearssl-dev")

    monkeypatch.setattr(native, "build_client", unavailable)
    outcome = probe.probe(project, endpoint=f"localhost:{running_broker.port}",
                          client_id=DEVICE_NAME, environ={}, timeout_s=5)
    assert outcome.ok, explain(outcome)
    assert outcome.library == "python-ssl"
    assert "libbearssl-dev" in outcome.hint


def test_refused_connect_names_the_connack_code(tmp_path, dev_ca, native_build_dir):
    require_mosquitto()
    require_library("mbedtls")
    files = write_data_files(tmp_path / "data", "esp32", [dev_ca.cert_pem], *dev_ca.device())
    with broker.running_broker(tmp_path / "broker", dev_ca.cert_pem, dev_ca.key_pem,
                               extra_lines=["clientid_prefixes allowed-"]) as running:
        outcome = probe.run_probe(files, running.host, running.port, client_id="not-allowed",
                                  build_dir=native_build_dir, timeout_s=5)
    assert (outcome.layer, outcome.fields.get("code")) == ("mqtt-connack", 5), explain(outcome)
    assert "not authorized" in outcome.detail and "iot:Connect" in outcome.hint


def _main(project, *extra):
    args = probe.add_arguments(argparse.ArgumentParser()).parse_args(
        ["--project-dir", str(project), *extra])
    return probe.main(args)


def test_cli_report_on_success(project, running_broker, capsys, monkeypatch):
    require_library("bearssl")
    monkeypatch.setenv("AWS_IOT_ENDPOINT", f"localhost:{running_broker.port}")
    assert _main(project, "--target", "esp8266", "--timeout", "5") == 0
    out = capsys.readouterr().out
    assert "BearSSL (the ESP8266's TLS library)" in out
    for layer in ("dns", "tcp", "tls", "mqtt-connect", "mqtt-subscribe", "mqtt-publish"):
        assert f"  {layer} " in out


def test_cli_report_on_failure_says_what_to_fix(project, capsys):
    require_library("bearssl")
    port = broker.free_port()
    assert _main(project, "--endpoint", f"127.0.0.1:{port}", "--timeout", "3") == 1
    out = capsys.readouterr().out
    assert "tcp              FAILED" in out
    assert "fix: nothing accepts connections" in out


def test_cli_without_endpoint_is_an_error(project, capsys):
    assert _main(project) == 1
    assert "AWS_IOT_ENDPOINT" in capsys.readouterr().err


@pytest.mark.parametrize("layer,fields,expected", [
    ("closed-after-connect", {}, "iot:Connect for client id dev"),
    ("closed-after-publish", {}, "iot:Publish on topic/t"),
    ("closed-after-subscribe", {}, "iot:Subscribe on topicfilter/t"),
    ("tls", {"side": "server-alert", "alert": 44}, "activate it"),
    ("tls", {"side": "client-verify", "reason": "expired"}, "clock"),
    ("timeout", {"stage": "tls-handshake"}, "MQTT TLS port"),
])
def test_every_layer_has_a_hint(layer, fields, expected):
    outcome = native.Outcome(layer, "detail", "bearssl", (), fields)
    assert expected in probe.hint_for(outcome, "host", 8883, "dev", "t")

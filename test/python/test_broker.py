"""The local broker: its configuration, its certificate, start and stop of a real mosquitto."""

import argparse

import pytest

from cryptography import x509

from espaws.rig import broker, devpki
from conftest import assert_mode
from tlsfixtures import new_authority, require_mosquitto


def _files(tmp_path, bind="127.0.0.1", hostnames=("localhost",)):
    ca = new_authority()
    return broker.prepare_broker(tmp_path, ca.cert_pem, ca.key_pem, hostnames, 18883, bind)


def test_configuration_is_mutual_tls_1_2(tmp_path):
    files = _files(tmp_path)
    lines = files.config.read_text().splitlines()
    for expected in ("listener 18883 127.0.0.1", "tls_version tlsv1.2", "require_certificate true",
                     "use_identity_as_username true", f"cafile {files.ca_cert}",
                     f"certfile {files.server_cert}", f"keyfile {files.server_key}",
                     *([f"user {broker.current_user()}"] if broker.current_user() else [])):
        assert expected in lines
    assert_mode(files.server_key, 0o600)


def test_without_bind_it_listens_on_every_interface(tmp_path):
    assert "listener 18883" in _files(tmp_path, bind="").config.read_text().splitlines()


def test_server_certificate_names_what_the_user_gives(tmp_path):
    files = _files(tmp_path, hostnames=("board-pc", "board-pc.local"))
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["board-pc", "board-pc.local"]


def test_default_host_names_include_mdns_and_localhost():
    names = broker.default_hostnames()
    assert names[1] == names[0] + ".local" and names[-1] == "localhost"


def test_running_broker_starts_and_stops(tmp_path):
    require_mosquitto()
    ca = new_authority()
    with broker.running_broker(tmp_path, ca.cert_pem, ca.key_pem) as running:
        process = running.process
        assert process.poll() is None
        assert any(line.endswith(" running")
                   for line in running.files.log.read_text().splitlines())
        assert f"listener {running.port} 127.0.0.1" in running.files.config.read_text()
    assert process.poll() is not None


def _args(tmp_path, *extra):
    parser = broker.add_arguments(argparse.ArgumentParser())
    return parser.parse_args(["--project-dir", str(tmp_path), *extra])


def test_cli_without_dev_certs_says_what_to_run(tmp_path, capsys):
    assert broker.main(_args(tmp_path)) == 1
    assert "dev-certs" in capsys.readouterr().err


def test_cli_without_mosquitto_prints_the_install_command(tmp_path, capsys, monkeypatch):
    devpki.write_dev_certs(tmp_path / "dev-certs")
    monkeypatch.setattr(broker, "find_mosquitto", lambda: None)
    assert broker.main(_args(tmp_path, "--hostname", "pc.local", "--port", "18884")) == 1
    err = capsys.readouterr().err
    assert "apt-get install mosquitto" in err
    assert f"mosquitto -c {tmp_path / '.pio' / 'aws_iot' / 'broker' / 'mosquitto.conf'}" in err


def _start_cli_broker(tmp_path, ignore_sigint=False):
    """`aws_iot.py broker` as a user starts it; returns (process, port) once mosquitto runs."""
    import signal
    import subprocess
    import sys

    from conftest import SCRIPT, clean_environ
    devpki.write_dev_certs(tmp_path / "dev-certs")
    port = broker.free_port()
    # A background job of a non-interactive shell starts with SIGINT ignored: mimic that.
    preexec = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    process = subprocess.Popen([sys.executable, str(SCRIPT), "broker", "--project-dir", str(tmp_path),
                                "--port", str(port), "--bind", "127.0.0.1", "--hostname", "localhost"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=clean_environ(PYTHONUNBUFFERED="1"), preexec_fn=preexec)
    for line in process.stdout:
        if "mosquitto is running" in line:
            return process, port
    raise AssertionError(f"broker did not start: {process.stderr.read()}")


@pytest.mark.parametrize("signame, background", [("SIGTERM", False), ("SIGINT", False), ("SIGINT", True),
                                                 ("SIGHUP", False)])
def test_cli_broker_stops_mosquitto_on_signals(tmp_path, signame, background):
    import signal
    require_mosquitto()
    process, port = _start_cli_broker(tmp_path, ignore_sigint=background)
    try:
        assert broker.port_in_use(port, "127.0.0.1")
        process.send_signal(getattr(signal, signame))
        assert process.wait(timeout=20) == 0
        assert "broker stopped" in process.stdout.read()
        assert "Traceback" not in process.stderr.read()
        assert not broker.port_in_use(port, "127.0.0.1"), "mosquitto outlived the broker command"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_cli_broker_refuses_a_busy_port_before_writing(tmp_path, capsys):
    require_mosquitto()
    ca = new_authority()
    with broker.running_broker(tmp_path / "other", ca.cert_pem, ca.key_pem) as running:
        devpki.write_dev_certs(tmp_path / "dev-certs")
        assert broker.main(_args(tmp_path, "--port", str(running.port), "--bind", "127.0.0.1")) == 1
        assert f"port {running.port} is already in use" in capsys.readouterr().err
        assert not (tmp_path / ".pio" / "aws_iot" / "broker").exists()

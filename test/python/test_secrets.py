"""secrets.h: values from the environment and .env become exact C string literals."""

import subprocess

import pytest

from espaws.settings import secrets
from conftest import assert_mode, run_cli

BASE = {"WIFI_SSID": "ssid", "WIFI_PASSWORD": "pw", "AWS_IOT_ENDPOINT": "abc-ats.iot.eu-west-1.amazonaws.com"}

VALUES = [
    'say "hi"',
    "back\\slash\\",
    "new\nline",
    "tab\there",
    "carriage\rreturn",
    "??= ??/ ??' trigraphs",
    "é ß 中文",
    "emoji 😀 then hex digits: é1234abcdef",
    "$HOME ${NOT_EXPANDED} `cmd`",
    "\x01\x7f control",
    "x" * 5000,
    "",
]


def compiled_value(tmp_path, header_text, macro):
    """Compile a C++ program with the header (trigraphs on, as strict ISO mode has) and print the bytes."""
    (tmp_path / "secrets.h").write_text(header_text)
    (tmp_path / "main.cpp").write_text(
        '#include <cstdio>\n#include "secrets.h"\n'
        f"int main() {{ std::fwrite({macro}, 1, sizeof({macro}) - 1, stdout); return 0; }}\n")
    subprocess.run(["g++", "-std=c++11", "-trigraphs", "-Wall", "-Werror", "-o", tmp_path / "probe",
                    tmp_path / "main.cpp"], check=True, capture_output=True)
    return subprocess.run([tmp_path / "probe"], check=True, capture_output=True).stdout


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_literal_compiles_to_the_exact_utf8_bytes(tmp_path, value):
    header = secrets.render_header({**BASE, "WIFI_PASSWORD": value})
    assert compiled_value(tmp_path, header, "WIFI_PASSWORD") == value.encode("utf-8")


@pytest.mark.parametrize("value, expected", [
    ('a"b', r'"a\"b"'),
    ("??=", r'"\?\?="'),
    ("é1", r'"\303\2511"'),  # octal, never hex: \xa91 would swallow the 1
    ("\n\t\\", r'"\n\t\\"'),
])
def test_literal_spelling(value, expected):
    assert secrets.c_string_literal(value) == expected


def test_nul_is_refused_without_echoing_the_value():
    with pytest.raises(ValueError) as caught:
        secrets.render_header({**BASE, "WIFI_PASSWORD": "top\0secret"})
    assert "WIFI_PASSWORD" in str(caught.value) and "NUL" in str(caught.value)
    assert "secret" not in str(caught.value)


def test_missing_required_are_reported_together():
    with pytest.raises(ValueError) as caught:
        secrets.render_header({"WIFI_PASSWORD": "pw"})
    message = str(caught.value)
    assert "WIFI_SSID, AWS_IOT_ENDPOINT" in message and "export WIFI_SSID=" in message


def test_empty_wifi_password_is_an_open_network_but_empty_ssid_is_missing():
    assert secrets.missing_required({**BASE, "WIFI_PASSWORD": ""}) == []
    assert secrets.missing_required({**BASE, "WIFI_SSID": ""}) == ["WIFI_SSID"]


def test_header_is_deterministic_and_ordered():
    settings = {"AWS_IOT_THING_NAME": "thing-1", **BASE, "UNRELATED": "x"}
    first = secrets.render_header(settings)
    assert first == secrets.render_header(dict(reversed(list(settings.items()))))
    names = [line.split()[1] for line in first.splitlines() if line.startswith("#define")]
    assert names == ["WIFI_SSID", "WIFI_PASSWORD", "AWS_IOT_ENDPOINT", "AWS_IOT_THING_NAME"]
    assert "UNRELATED" not in first and "AWS_IOT_KEY_PASSPHRASE" not in first


def test_dotenv_under_the_process_environment(tmp_path):
    (tmp_path / ".env").write_text(
        '# comment\nexport WIFI_SSID="from dotenv"\nWIFI_PASSWORD=\'pa$$word "x"\'\n'
        "AWS_IOT_ENDPOINT=dotenv-host:1883\nAWS_IOT_THING_NAME=dotenv-thing\n")
    settings = secrets.read_settings(tmp_path, environ={"AWS_IOT_THING_NAME": "env-thing"})
    assert settings["WIFI_SSID"] == "from dotenv"
    assert settings["WIFI_PASSWORD"] == 'pa$$word "x"'
    assert settings["AWS_IOT_ENDPOINT"] == "dotenv-host:1883"
    assert settings["AWS_IOT_THING_NAME"] == "env-thing"


def test_source_fingerprint_changes_with_any_source_and_hides_values(tmp_path):
    one = secrets.source_fingerprint(tmp_path, BASE)
    assert one == secrets.source_fingerprint(tmp_path, {**BASE, "UNRELATED": "x"})
    assert one != secrets.source_fingerprint(tmp_path, {**BASE, "WIFI_PASSWORD": "pw2"})
    assert one != secrets.source_fingerprint(tmp_path, {**BASE, "AWS_IOT_KEY_PASSPHRASE": ""})
    (tmp_path / ".env").write_text("WIFI_SSID=other\n")
    assert one != secrets.source_fingerprint(tmp_path, BASE)
    assert "pw" not in one and len(one) == 64


def test_cli_writes_secrets_out_0600_and_never_prints_values(tmp_path):
    from pkitools import Identity
    Identity().write_aws_style(tmp_path / "certs", with_ca=False)
    out = tmp_path / "sketch" / "secrets.h"
    env = {**BASE, "WIFI_PASSWORD": "hunter2-very-secret"}
    result = run_cli("prepare", "--project-dir", tmp_path, "--secrets-out", out, env=env)
    assert result.returncode == 0, result.stderr
    assert_mode(out, 0o600)
    assert '#define WIFI_PASSWORD "hunter2-very-secret"' in out.read_text()
    assert "hunter2" not in result.stdout + result.stderr
    mtime = out.stat().st_mtime_ns
    assert run_cli("prepare", "--project-dir", tmp_path, "--secrets-out", out, env=env).returncode == 0
    assert out.stat().st_mtime_ns == mtime  # unchanged content is not rewritten


def test_cli_missing_variables_fail_before_writing_anything(tmp_path):
    from pkitools import Identity
    Identity().write_aws_style(tmp_path / "certs")
    result = run_cli("prepare", "--project-dir", tmp_path, "--secrets-out", tmp_path / "secrets.h",
                     env={"WIFI_PASSWORD": "hunter2"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: missing WIFI_SSID, AWS_IOT_ENDPOINT: set them in the environment (export WIFI_SSID=...) "
        f"or in {tmp_path}/.env (WIFI_SSID=...)"]
    assert not (tmp_path / "data").exists() and not (tmp_path / "secrets.h").exists()


def test_cli_nul_in_dotenv_is_refused(tmp_path):
    from pkitools import Identity
    Identity().write_aws_style(tmp_path / "certs")
    (tmp_path / ".env").write_bytes(b"WIFI_SSID=a\x00b\nWIFI_PASSWORD=pw\nAWS_IOT_ENDPOINT=h\n")
    result = run_cli("prepare", "--project-dir", tmp_path, "--secrets-out", tmp_path / "secrets.h")
    assert result.returncode == 1
    assert "WIFI_SSID contains a NUL byte" in result.stderr

"""The newcomer's demo: the whole flow against a real local broker, through both boards' TLS libraries."""

from conftest import run_cli
from tlsfixtures import require_library, require_mosquitto


def test_demo_round_trips_through_bearssl_and_mbedtls(tmp_path):
    require_mosquitto()
    require_library("bearssl")
    require_library("mbedtls")
    result = run_cli("demo", "--workdir", tmp_path / "demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "through BearSSL (the ESP8266's TLS library)" in result.stdout
    assert "through mbedTLS (the ESP32's TLS library)" in result.stdout
    assert result.stdout.count("round trip       ok") == 2
    assert "broker stopped" in result.stdout
    assert sorted(p.name for p in (tmp_path / "demo" / "data").iterdir()) == [
        "ca.der", "ca.pem", "cert.der", "cert.pem", "private.der", "private.pem", "thing.txt"]
    assert (tmp_path / "demo" / "data" / "thing.txt").read_bytes() == b"demo-thing"
    assert '#define AWS_IOT_ENDPOINT "localhost:' in (tmp_path / "demo" / "secrets.h").read_text()

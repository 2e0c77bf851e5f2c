"""Building the C clients: cached by source, clear errors; parsing their output; input checks."""

import shutil

import pytest

from espaws.rig import native
from tlsfixtures import dev_ca, explain, require_library, write_data_files  # noqa: F401


@pytest.mark.parametrize("library", ["bearssl", "mbedtls"])
def test_builds_once_and_reuses_the_binary(tmp_path, library):
    require_library(library)
    first = native.build_client(library, tmp_path)
    mtime = first.stat().st_mtime_ns
    again = native.build_client(library, tmp_path)
    assert again == first and again.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def test_binary_name_follows_the_sources(monkeypatch, tmp_path):
    before = native.source_digest(native.CLIENTS["bearssl"])
    monkeypatch.setattr(native, "CFLAGS", native.CFLAGS + ("-DPROBE_VARIANT",))
    assert native.source_digest(native.CLIENTS["bearssl"]) != before


def test_missing_headers_name_the_debian_package(tmp_path, monkeypatch):
    fake = native.NativeClient("bearssl", native.CLIENTS["bearssl"].sources, ("-lbearssl",),
                               "no_such_header_here.h", "libbearssl-dev")
    monkeypatch.setitem(native.CLIENTS, "bearssl", fake)
    if not shutil.which("gcc"):
        pytest.skip("gcc is not installed")
    with pytest.raises(native.NativeBuildError, match="apt-get install libbearssl-dev"):
        native.build_client("bearssl", tmp_path)


def test_missing_gcc_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(native.shutil, "which", lambda name: None)
    with pytest.raises(native.NativeBuildError, match="apt-get install gcc libmbedtls-dev"):
        native.build_client("mbedtls", tmp_path)


def test_output_parsing():
    outcome = native.parse_output(
        'STEP dns ok a -> 1.2.3.4\nSTEP tcp ok connected\n'
        'RESULT {"layer":"tls","library":"bearssl","side":"server-alert","alert":48,'
        '"alert_name":"unknown_ca","detail":"the server refused"}\n', "bearssl")
    assert (outcome.layer, outcome.side, outcome.alert, outcome.detail) == \
        ("tls", "server-alert", 48, "the server refused")
    assert outcome.steps == (("dns", "a -> 1.2.3.4"), ("tcp", "connected"))
    assert native.parse_output("garbage", "mbedtls").layer == "internal"


def _run(tmp_path, library, files, **kwargs):
    binary = native.build_client(library, tmp_path / "build")
    return native.run_client(binary, library, host="127.0.0.1", port=9, ca_files=files.ca_files,
                             cert=files.cert, key=files.key, timeout_s=2, **kwargs)


def test_bearssl_refuses_der_with_trailing_bytes(tmp_path, dev_ca):
    # The ESP8266 core takes a buffer as DER only when its outer length is the whole buffer.
    require_library("bearssl")
    files = write_data_files(tmp_path / "data", "esp8266", [dev_ca.cert_pem], *dev_ca.device())
    files.ca_files[0].write_bytes(files.ca_files[0].read_bytes() + b"\n")
    outcome = _run(tmp_path, "bearssl", files)
    assert outcome.layer == "input" and "exactly one DER object" in outcome.detail, explain(outcome)


def test_bearssl_refuses_pem_where_der_belongs(tmp_path, dev_ca):
    require_library("bearssl")
    files = write_data_files(tmp_path / "data", "esp8266", [dev_ca.cert_pem], *dev_ca.device())
    files.cert.write_bytes(dev_ca.cert_pem)
    assert _run(tmp_path, "bearssl", files).layer == "input"


def test_mbedtls_reads_pem_only_up_to_a_nul(tmp_path, dev_ca):
    # The ESP32 hands strlen(buf) + 1 bytes to mbedTLS: a NUL cuts the PEM short.
    require_library("mbedtls")
    files = write_data_files(tmp_path / "data", "esp32", [dev_ca.cert_pem], *dev_ca.device())
    pem = files.cert.read_bytes()
    files.cert.write_bytes(pem[:40] + b"\0" + pem[40:])
    outcome = _run(tmp_path, "mbedtls", files)
    assert outcome.layer == "input" and str(files.cert) in outcome.detail, explain(outcome)


def test_usage_error_is_an_exception(tmp_path):
    require_library("mbedtls")
    binary = native.build_client("mbedtls", tmp_path)
    with pytest.raises(ValueError, match="usage"):
        native.run_client(binary, "mbedtls", host="h", port=1, ca_files=[], cert="c", key="k")

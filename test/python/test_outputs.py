"""The board's files: byte for byte what openssl makes from the same input."""

import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from conftest import assert_mode, run_cli
from pkitools import Identity

OPENSSL_KEY = {
    ("pkcs8", "ec"): ["pkcs8", "-topk8", "-nocrypt", "-outform", "DER"],
    ("pkcs8", "rsa2048"): ["rsa", "-outform", "DER"],  # the manual route: PKCS#8 with OpenSSL 3
    ("traditional", "ec"): ["ec", "-outform", "DER"],  # SEC1
    ("traditional", "rsa2048"): ["rsa", "-traditional", "-outform", "DER"],  # PKCS#1
}


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout


@pytest.mark.parametrize("kind", ["ec", "rsa2048"])
@pytest.mark.parametrize("key_format", ["pkcs8", "traditional"])
def test_esp8266_files_match_openssl(tmp_path, kind, key_format):
    certs = Identity(kind=kind).write_aws_style(tmp_path / "certs", key_fmt="traditional")
    result = run_cli("prepare", "--project-dir", tmp_path, "--key-format", key_format)
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    assert sorted(p.name for p in data.iterdir()) == [".gitignore", "ca.der", "cert.der", "private.der"]
    assert (data / "cert.der").read_bytes() == openssl(
        "x509", "-in", certs / "a1b2c3d4e5-certificate.pem.crt", "-outform", "DER")
    assert (data / "ca.der").read_bytes() == openssl("x509", "-in", certs / "AmazonRootCA1.pem", "-outform", "DER")
    assert (data / "private.der").read_bytes() == openssl(
        *OPENSSL_KEY[key_format, kind], "-in", certs / "a1b2c3d4e5-private.pem.key")
    assert_mode(data / "private.der", 0o600)


def test_encrypted_key_is_decrypted_on_the_pc(tmp_path):
    certs = Identity(kind="rsa2048").write_aws_style(tmp_path / "certs", passphrase="pass word")
    result = run_cli("prepare", "--project-dir", tmp_path, env={"AWS_IOT_KEY_PASSPHRASE": "pass word"})
    assert result.returncode == 0, result.stderr
    expected = openssl("pkcs8", "-topk8", "-nocrypt", "-in", certs / "a1b2c3d4e5-private.pem.key",
                       "-passin", "pass:pass word", "-outform", "DER")
    assert (tmp_path / "data" / "private.der").read_bytes() == expected
    assert "pass word" not in result.stdout + result.stderr


def test_amazon_roots_from_certifi_are_two_exact_der_objects(tmp_path):
    Identity().write_aws_style(tmp_path / "certs", with_ca=False)
    result = run_cli("prepare", "--project-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Amazon Root CA 1 and Amazon Root CA 3" in result.stdout
    names = []
    for filename in ("ca.der", "ca_2.der"):
        der = (tmp_path / "data" / filename).read_bytes()
        cert = x509.load_der_x509_certificate(der)  # raises on trailing bytes
        assert cert.public_bytes(Encoding.DER) == der
        names.append(cert.subject.rfc4514_string())
    assert names == ["CN=Amazon Root CA 1,O=Amazon,C=US", "CN=Amazon Root CA 3,O=Amazon,C=US"]


def test_esp32_gets_clean_pem(tmp_path):
    identity = Identity(kind="ec")
    identity.write_aws_style(tmp_path / "certs", crlf=True, bom=True)
    result = run_cli("prepare", "--project-dir", tmp_path, "--target", "esp32")
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    assert sorted(p.name for p in data.iterdir()) == [".gitignore", "ca.pem", "cert.pem", "private.pem"]
    for path in data.glob("*.pem"):
        text = path.read_bytes()
        assert text.startswith(b"-----BEGIN ") and text.endswith(b"-----\n")
        assert b"\r" not in text and b"\xef\xbb\xbf" not in text
    assert x509.load_pem_x509_certificate((data / "cert.pem").read_bytes()) == identity.cert
    assert (data / "private.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_esp32_ca_pem_holds_every_anchor(tmp_path):
    Identity().write_aws_style(tmp_path / "certs", with_ca=False)
    assert run_cli("prepare", "--project-dir", tmp_path, "--target", "esp32").returncode == 0
    anchors = x509.load_pem_x509_certificates((tmp_path / "data" / "ca.pem").read_bytes())
    assert [a.subject.rfc4514_string() for a in anchors] == [
        "CN=Amazon Root CA 1,O=Amazon,C=US", "CN=Amazon Root CA 3,O=Amazon,C=US"]


def test_target_from_platformio_ini(tmp_path):
    Identity().write_aws_style(tmp_path / "certs")
    (tmp_path / "platformio.ini").write_text(
        "[platformio]\ndefault_envs = board\n\n[env:board]\nplatform = espressif32@6.9.0\n"
        "board_build.filesystem = littlefs\n")
    result = run_cli("prepare", "--project-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "cert.pem").exists()
    assert "filesystem: LittleFS" in result.stdout

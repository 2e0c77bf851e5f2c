"""Real-world input the plugin met: one clean line each (or a clean success), never a traceback,
a hang or a change outside the project; trust anchors only of kinds the board's TLS library uses;
RSA sizes the ESP8266 can sign with; Amazon's two roots for an ATS endpoint."""

import os
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ObjectIdentifier

from espaws.identity import amazon_roots
from conftest import run_cli, snapshot
from pkitools import DAY, NOW, Identity, certificate, name, new_key, pem

CERT = "a1b2c3d4e5-certificate.pem.crt"
KEY = "a1b2c3d4e5-private.pem.key"
ATS = "abc123-ats.iot.eu-west-1.amazonaws.com"


@pytest.fixture
def project(tmp_path):
    """A project whose data/ holds good outputs and a file of the user's; certs/ without a CA."""
    identity = Identity(kind="ec")
    identity.write_aws_style(tmp_path / "certs", with_ca=False)
    assert run_cli("prepare", "--project-dir", tmp_path).returncode == 0
    (tmp_path / "data" / "config.json").write_text('{"user": "file"}')
    return tmp_path, identity


def assert_clean_failure(result, expected):
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(("error: ", "warning: ")) for line in lines), result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr


def device_cert_with_raw_extension(identity, oid_bytes, value):
    """The device certificate with an extra extension whose OID is swapped in after signing:
    the builder refuses duplicates and malformed values, real files have them anyway."""
    placeholder = ObjectIdentifier("2.5.29.99")  # encodes as 06 03 55 1D 63, as long as 2.5.29.x
    builder = (x509.CertificateBuilder().subject_name(name("thing")).issuer_name(identity.ca.subject)
               .public_key(identity.key.public_key()).serial_number(7)
               .not_valid_before(NOW - DAY).not_valid_after(NOW + 300 * DAY)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.UnrecognizedExtension(placeholder, value), critical=False))
    der = builder.sign(identity.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    return pem(x509.load_der_x509_certificate(der.replace(b"\x06\x03\x55\x1d\x63", oid_bytes)))


def with_serial(identity, serial_bytes):
    builder = (x509.CertificateBuilder().subject_name(name("thing")).issuer_name(identity.ca.subject)
               .public_key(identity.key.public_key()).serial_number(0x55)
               .not_valid_before(NOW - DAY).not_valid_after(NOW + 300 * DAY))
    der = builder.sign(identity.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    return pem_of(der.replace(b"\x02\x01\x55", serial_bytes, 1))


@pytest.mark.parametrize("case, make, expected", [
    ("two basicConstraints", lambda i: device_cert_with_raw_extension(i, b"\x06\x03\x55\x1d\x13", b"\x30\x00"),
     "the certificate cannot be read (Duplicate 2.5.29.19 extension found)"),
    ("malformed subject alternative name",
     lambda i: device_cert_with_raw_extension(i, b"\x06\x03\x55\x1d\x11", b"\x30\x02\x05\x00"),
     "the certificate cannot be read"),
    ("malformed issuer alternative name",
     lambda i: device_cert_with_raw_extension(i, b"\x06\x03\x55\x1d\x12", b"\x04\x00"),
     "the certificate cannot be read"),
])
def test_certificates_with_malformed_extensions(project, case, make, expected):
    path, identity = project
    (path / "certs" / CERT).write_bytes(make(identity))
    before = snapshot(path / "data")
    assert_clean_failure(run_cli("prepare", "--project-dir", path), f"certs/{CERT}: {expected}")
    assert snapshot(path / "data") == before


def test_invalid_x509_version(project):
    path, identity = project
    der = identity.cert.public_bytes(serialization.Encoding.DER).replace(b"\xa0\x03\x02\x01\x02",
                                                                        b"\xa0\x03\x02\x01\x07", 1)
    (path / "certs" / CERT).write_bytes(pem_of(der))
    assert_clean_failure(run_cli("check", "--project-dir", path), "invalid X.509 version")


def pem_of(der):
    import base64
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


def test_negative_serial_loads_without_a_deprecation_warning(project):
    path, identity = project
    (path / "certs" / CERT).write_bytes(with_serial(identity, b"\x02\x01\xfb"))
    result = run_cli("prepare", "--project-dir", path)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "cryptography" not in result.stderr


def test_file_name_that_is_not_utf8(project):
    path, _ = project
    (path / "certs" / os.fsdecode(b"\xff\xfe-notes.pem")).write_bytes(b"not pem at all")
    result = run_cli("prepare", "--project-dir", path, env={"PYTHONIOENCODING": "utf-8"})
    assert_clean_failure(result, "certs/\\xff\\xfe-notes.pem: holds no PEM block")


def test_data_folder_is_a_regular_file(project):
    path, _ = project
    import shutil
    shutil.rmtree(path / "data")
    (path / "data").write_text("not a folder")
    assert_clean_failure(run_cli("prepare", "--project-dir", path), "data: cannot write (not a folder)")
    assert (path / "data").read_text() == "not a folder"


def test_a_folder_where_an_output_goes(project):
    path, _ = project
    (path / "data" / "cert.der").unlink()
    (path / "data" / "cert.der").mkdir()
    before = snapshot(path / "data")
    assert_clean_failure(run_cli("prepare", "--project-dir", path), "data/cert.der: cannot write")
    assert snapshot(path / "data") == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes whatever the modes say")
def test_unreadable_key_and_read_only_data(project):
    path, identity = project
    (path / "certs" / KEY).chmod(0)
    assert_clean_failure(run_cli("prepare", "--project-dir", path), f"certs/{KEY}: cannot be read")
    (path / "certs" / KEY).chmod(0o600)
    (path / "certs" / "ca.pem").write_bytes(pem(identity.ca))  # something new to write
    (path / "data").chmod(0o555)
    try:
        assert_clean_failure(run_cli("prepare", "--project-dir", path), "cannot write")
    finally:
        (path / "data").chmod(0o755)


def test_symlinked_output_is_replaced_not_chmodded_through(project, tmp_path_factory):
    path, _ = project
    outside = tmp_path_factory.mktemp("outside") / "key-copy.der"
    outside.write_bytes((path / "data" / "private.der").read_bytes())
    outside.chmod(0o644)
    (path / "data" / "private.der").unlink()
    (path / "data" / "private.der").symlink_to(outside)
    assert run_cli("prepare", "--project-dir", path).returncode == 0
    assert outside.stat().st_mode & 0o777 == 0o644
    assert not (path / "data" / "private.der").is_symlink()
    assert (path / "data" / "private.der").stat().st_mode & 0o777 == 0o600


def test_symlink_out_of_the_certs_folder_is_refused(project):
    path, _ = project
    (path / "certs" / "environ.pem").symlink_to("/proc/self/environ")
    assert_clean_failure(run_cli("check", "--project-dir", path),
                         "certs/environ.pem: a symbolic link to outside certs/: copy the file into certs/")


def test_symlink_inside_the_certs_folder_is_fine(project):
    path, _ = project
    (path / "certs" / "originals").mkdir()
    (path / "certs" / KEY).rename(path / "certs" / "originals" / KEY)
    (path / "certs" / KEY).symlink_to(path / "certs" / "originals" / KEY)
    assert run_cli("check", "--project-dir", path).returncode == 0


def test_twenty_megabytes_of_begin_lines_fail_fast(project):
    path, _ = project
    (path / "certs" / "huge.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n" * 750_000)
    started = time.monotonic()
    assert_clean_failure(run_cli("check", "--project-dir", path), "certs/huge.pem: a PEM block has no END line")
    assert time.monotonic() - started < 20


def test_csr_only_says_why_amazons_roots_are_used(project):
    path, identity = project
    csr = (x509.CertificateSigningRequestBuilder().subject_name(name("thing"))
           .sign(identity.key, hashes.SHA256()))
    (path / "certs" / "request.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    result = run_cli("check", "--project-dir", path)
    assert result.returncode == 0, result.stderr
    assert ("no CA certificate in the certs folder (certs/request.csr is a certificate signing request, "
            "not a CA certificate): using Amazon Root CA 1 and Amazon Root CA 3") in result.stdout


# ---- trust anchors the board's TLS library can verify with ------------------------------------

def ca_with_key(kind):
    key = new_key(kind)
    return certificate(key, "Odd CA", ca=True), key


@pytest.mark.parametrize("target", ["esp8266", "esp32"])
@pytest.mark.parametrize("kind, shown", [("ed25519", "Ed25519"), ("ed448", "Ed448")])
def test_eddsa_trust_anchor_refused(tmp_path, target, kind, shown):
    if kind == "ed448":
        from cryptography.hazmat.primitives.asymmetric import ed448
        key = ed448.Ed448PrivateKey.generate()
        ca = x509.CertificateBuilder().subject_name(name("Odd CA")).issuer_name(name("Odd CA")).public_key(
            key.public_key()).serial_number(1).not_valid_before(NOW - DAY).not_valid_after(NOW + 300 * DAY).add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, None)
    else:
        ca, _ = ca_with_key(kind)
    Identity().write_aws_style(tmp_path / "certs", with_ca=False)
    (tmp_path / "certs" / "ca.pem").write_bytes(pem(ca))
    library = "BearSSL (ESP8266)" if target == "esp8266" else "mbedTLS (ESP32)"
    assert_clean_failure(run_cli("prepare", "--project-dir", tmp_path, "--target", target),
                         f"certs/ca.pem: a CA certificate with an {shown} key, which {library} cannot verify with")
    assert not (tmp_path / "data").exists()


def test_rsa_pss_trust_anchor_refused(tmp_path):
    certs = tmp_path / "certs"
    Identity().write_aws_style(certs, with_ca=False)
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa-pss", "-pkeyopt", "rsa_keygen_bits:2048",
                           "-nodes", "-keyout", str(tmp_path / "pss.key"), "-out", str(certs / "pss-ca.pem"),
                           "-subj", "/CN=PSS CA", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE"],
                          capture_output=True)
    if made.returncode:
        pytest.skip("this openssl cannot make RSA-PSS certificates")
    assert_clean_failure(run_cli("prepare", "--project-dir", tmp_path),
                         "certs/pss-ca.pem: a CA certificate with an RSA-PSS key, which BearSSL (ESP8266) cannot")


@pytest.mark.parametrize("kind", ["rsa2048", "ec", "p384"])
def test_usual_trust_anchors_accepted(tmp_path, kind):
    Identity(ca_kind=kind).write_aws_style(tmp_path / "certs")
    assert run_cli("prepare", "--project-dir", tmp_path).returncode == 0


# ---- RSA sizes the ESP8266 can sign with in time ----------------------------------------------

@pytest.mark.parametrize("bits", [3072, 4096])
def test_rsa_above_2048_refused_for_esp8266_kept_for_esp32(tmp_path, bits):
    Identity(kind=f"rsa{bits}").write_aws_style(tmp_path / "certs")
    result = run_cli("prepare", "--project-dir", tmp_path, "--target", "esp8266")
    assert_clean_failure(result, f"certs/{KEY}: RSA-{bits} key refused for the ESP8266")
    assert "EC P-256" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "data").exists()
    assert run_cli("prepare", "--project-dir", tmp_path, "--target", "esp32").returncode == 0
    assert (tmp_path / "data" / "private.pem").exists()


def test_rsa_2048_still_fine_for_esp8266(tmp_path):
    Identity(kind="rsa2048").write_aws_style(tmp_path / "certs")
    assert run_cli("prepare", "--project-dir", tmp_path, "--target", "esp8266").returncode == 0


# ---- Amazon's roots -----------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", [ATS, None])
def test_root_ca1_alone_gets_root_ca3_from_certifi(tmp_path, endpoint):
    certs = Identity().write_aws_style(tmp_path / "certs", with_ca=False)
    roots = dict(amazon_roots.load())
    (certs / "AmazonRootCA1.pem").write_bytes(pem(roots["Amazon Root CA 1"]))
    result = run_cli("prepare", "--project-dir", tmp_path, env={"AWS_IOT_ENDPOINT": endpoint} if endpoint else {})
    assert result.returncode == 0, result.stderr
    assert "plus Amazon Root CA 3 (certifi): AWS IoT's ATS endpoints chain to Amazon Root CA 1 or 3" in result.stdout
    der = serialization.Encoding.DER
    assert (tmp_path / "data" / "ca.der").read_bytes() == roots["Amazon Root CA 1"].public_bytes(der)
    assert (tmp_path / "data" / "ca_2.der").read_bytes() == roots["Amazon Root CA 3"].public_bytes(der)


def test_both_amazon_roots_in_certs_add_nothing(tmp_path):
    certs = Identity().write_aws_style(tmp_path / "certs", with_ca=False)
    for label, cert in amazon_roots.load():
        (certs / f"{label.replace(' ', '')}.pem").write_bytes(pem(cert))
    result = run_cli("prepare", "--project-dir", tmp_path, env={"AWS_IOT_ENDPOINT": ATS})
    assert result.returncode == 0, result.stderr
    assert "(certifi)" not in result.stdout
    assert sorted(p.name for p in (tmp_path / "data").glob("ca*.der")) == ["ca.der", "ca_2.der"]


def test_own_ca_gets_no_amazon_roots(tmp_path):
    Identity().write_aws_style(tmp_path / "certs")
    result = run_cli("prepare", "--project-dir", tmp_path, env={"AWS_IOT_ENDPOINT": "broker.local:8883"})
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "data" / "ca_2.der").exists()


def test_pem_files_concatenated_without_a_newline(tmp_path):
    identity = Identity()
    certs = identity.write_aws_style(tmp_path / "certs", with_ca=False)
    (certs / "chain.pem").write_bytes(pem(identity.cert).rstrip(b"\n") + pem(identity.ca).rstrip(b"\n"))
    (certs / CERT).unlink()
    result = run_cli("prepare", "--project-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "certs/chain.pem (block 2)" in result.stdout


def test_root_ca1_alone_still_works_when_certifi_is_unreadable(tmp_path, monkeypatch):
    import io

    from espaws import cli
    certs = Identity().write_aws_style(tmp_path / "certs", with_ca=False)
    (certs / "AmazonRootCA1.pem").write_bytes(pem(dict(amazon_roots.load())["Amazon Root CA 1"]))
    monkeypatch.setattr(amazon_roots, "bundle_path", lambda: str(tmp_path / "no-such-bundle.pem"))
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["prepare", "--project-dir", str(tmp_path)], environ={"AWS_IOT_ENDPOINT": ATS},
                    out=out, err=err) == 0, err.getvalue()
    assert "Amazon's roots are unavailable" in out.getvalue()
    assert not (tmp_path / "data" / "ca_2.der").exists()


def test_state_folder_that_cannot_be_made(project):
    path, identity = project
    import shutil
    shutil.rmtree(path / ".pio")
    (path / ".pio").write_text("a file where the plugin keeps its manifest")
    (path / "certs" / "ca.pem").write_bytes(pem(identity.ca))  # something new to write
    before = snapshot(path / "data")
    assert_clean_failure(run_cli("prepare", "--project-dir", path), ".pio/aws_iot: cannot write (Not a directory)")
    assert snapshot(path / "data") == before


def test_dotenv_that_is_not_utf8(project):
    path, _ = project
    (path / ".env").write_bytes(b"WIFI_SSID=caf\xe9\n")
    before = snapshot(path / "data")
    assert_clean_failure(run_cli("prepare", "--project-dir", path), ".env: not UTF-8 text: save it as UTF-8")
    assert snapshot(path / "data") == before


def test_dotenv_that_is_a_folder_is_ignored(project):
    path, _ = project
    (path / ".env").mkdir()
    assert run_cli("prepare", "--project-dir", path).returncode == 0

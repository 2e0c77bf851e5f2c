"""The development CA folder: layout, marking, permissions, idempotence, certificates."""

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from espaws.rig import devpki
from conftest import assert_mode

TOP_LEVEL = {"dev-ca.pem", "device-certificate.pem.crt", "device-private.pem.key", "README.txt",
             "ca-private"}


def _cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def _key(path):
    return serialization.load_pem_private_key(path.read_bytes(), None)


def _public_der(key):
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("key_type,key_class", [("ec", ec.EllipticCurvePrivateKey),
                                                ("rsa", rsa.RSAPrivateKey)])
def test_layout_marking_and_keys(tmp_path, key_type, key_class):
    paths = devpki.write_dev_certs(tmp_path / "dev-certs", key_type)

    assert {p.name for p in paths.folder.iterdir()} == TOP_LEVEL
    assert paths.ca_key == tmp_path / "dev-certs" / "ca-private" / "dev-ca.key"
    ca, device, device_key = _cert(paths.ca_cert), _cert(paths.device_cert), _key(paths.device_key)
    assert isinstance(device_key, key_class) and isinstance(_key(paths.ca_key), key_class)
    if key_type == "rsa":
        assert device_key.key_size == 2048
    else:
        assert device_key.curve.name == "secp256r1"
    for cert in (ca, device):
        organization = cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value
        assert "DEVELOPMENT ONLY" in organization
    assert "DEVELOPMENT ONLY" in ca.subject.rfc4514_string()
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    device.verify_directly_issued_by(ca)
    assert _public_der(device_key) == device.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert "NOT FOR PRODUCTION" in paths.readme.read_text()
    for key_path in (paths.device_key, paths.ca_key):
        assert_mode(key_path, 0o600)
    assert_mode(paths.ca_key.parent, 0o700)


def test_ec_is_the_default(tmp_path):
    paths = devpki.write_dev_certs(tmp_path)
    assert isinstance(_key(paths.device_key), ec.EllipticCurvePrivateKey)


def test_rerun_keeps_everything(tmp_path):
    first = devpki.write_dev_certs(tmp_path)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.rglob("*") if p.is_file()}
    again = devpki.write_dev_certs(tmp_path)
    assert again.written == () and len(first.written) == 5
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.rglob("*")
            if p.is_file()} == before


def test_missing_device_is_issued_from_the_existing_ca(tmp_path):
    paths = devpki.write_dev_certs(tmp_path)
    ca_bytes = paths.ca_cert.read_bytes()
    paths.device_cert.unlink()
    paths.device_key.unlink()
    again = devpki.write_dev_certs(tmp_path)
    assert paths.ca_cert.read_bytes() == ca_bytes
    assert set(again.written) == {paths.device_cert, paths.device_key}
    _cert(paths.device_cert).verify_directly_issued_by(_cert(paths.ca_cert))


@pytest.mark.parametrize("removed", ["device_key", "ca_key"])
def test_incomplete_set_is_not_replaced_without_overwrite(tmp_path, removed):
    paths = devpki.write_dev_certs(tmp_path)
    getattr(paths, removed).unlink()
    kept = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(devpki.DevCertsExist, match=str(tmp_path)):
        devpki.write_dev_certs(tmp_path)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == kept


def test_overwrite_regenerates_everything(tmp_path):
    paths = devpki.write_dev_certs(tmp_path)
    old_ca = paths.ca_cert.read_bytes()
    paths.device_key.unlink()
    devpki.write_dev_certs(tmp_path, "rsa", overwrite=True)
    assert paths.ca_cert.read_bytes() != old_ca
    assert isinstance(_key(paths.device_key), rsa.RSAPrivateKey)


def test_unknown_key_type_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ec, rsa"):
        devpki.write_dev_certs(tmp_path, "ed25519")
    assert not any(tmp_path.iterdir())


def test_server_certificate_names_and_addresses():
    ca_cert, ca_key = devpki.create_ca()
    cert_pem, key_pem = devpki.issue_server_certificate(ca_cert, ca_key,
                                                        ["myhost", "myhost.local", "localhost"])
    cert = x509.load_pem_x509_certificate(cert_pem)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["myhost", "myhost.local", "localhost"]
    assert set(sans.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"),
                                                             ipaddress.ip_address("::1")}
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.ExtendedKeyUsageOID.SERVER_AUTH in usage
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_cert))
    assert _public_der(serialization.load_pem_private_key(key_pem, None)) == \
        cert.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)


def test_device_certificate_dates_for_negative_tests():
    ca_cert, ca_key = devpki.create_ca("rsa")
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    end = datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc)
    cert_pem, key_pem = devpki.issue_device_certificate(ca_cert, ca_key, "ec", not_before=start,
                                                        not_after=end, traditional=True)
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert (cert.not_valid_before_utc, cert.not_valid_after_utc) == (start, end)
    assert key_pem.startswith(b"-----BEGIN EC PRIVATE KEY-----")

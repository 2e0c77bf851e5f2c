"""Validation before anything is written: dates, key types, issuer, endpoint."""

import pytest

from espaws.identity import amazon_roots, checks, endpoint
from espaws.identity.pki import Certificate, Material, PrivateKey
from pkitools import DAY, NOW, Identity, certificate, new_key


def material_of(identity, with_ca=True):
    return Material(device=Certificate("certs/device.crt", identity.cert),
                    key=PrivateKey("certs/device.key", identity.key),
                    cas=[Certificate("certs/ca.pem", identity.ca)] if with_ca else [])


def amazon_anchors():
    return [Certificate(label, cert) for label, cert in amazon_roots.load()]


@pytest.mark.parametrize("kind, reason", [
    ("rsa1024", "AWS IoT Core requires RSA keys of 2048 bits or more"),
    ("ed25519", "do not accept EdDSA"),
    ("dsa", "DSA key refused"),
    ("p521", "curve secp521r1 refused"),
])
def test_refused_key_types(kind, reason):
    problem = checks.check_key_type(new_key(kind), "certs/k.key")
    assert problem.startswith("certs/k.key: ") and reason in problem


@pytest.mark.parametrize("kind", ["ec", "p384", "rsa2048", "rsa4096"])
def test_accepted_key_types(kind):
    assert checks.check_key_type(new_key(kind), "k") is None


def test_expired_not_yet_valid_and_expiring_soon():
    expired = Identity(not_before=NOW - 400 * DAY, not_after=NOW - DAY)
    future = Identity(not_before=NOW + 2 * DAY, not_after=NOW + 400 * DAY)
    soon = Identity(not_after=NOW + 10 * DAY)
    for identity, kind, text in ((expired, "errors", "expired on"), (future, "errors", "not valid before"),
                                 (soon, "warnings", "expires in 9 day")):
        findings = checks.check_validity(Certificate("certs/d.crt", identity.cert), NOW, "device certificate")
        assert len(getattr(findings, kind)) == 1 and text in getattr(findings, kind)[0]
    fine = checks.check_validity(Certificate("c", Identity().cert), NOW, "device certificate")
    assert not fine.errors and not fine.warnings


def test_issuer_in_folder_is_verified():
    identity = Identity()
    findings = checks.check_issuer(material_of(identity).device, material_of(identity).cas)
    assert findings.infos == ["device certificate issued by CN=Test CA: signature verified with certs/ca.pem"]


def test_issuer_with_the_same_name_that_did_not_sign_is_an_error():
    identity, impostor = Identity(), Identity()  # both CAs are called "Test CA"
    findings = checks.check_issuer(Certificate("certs/device.crt", identity.cert),
                                   [Certificate("certs/ca.pem", impostor.ca)])
    assert findings.errors == ["certs/device.crt: names certs/ca.pem as its issuer, but that CA did not sign it: "
                               "the certificate and the CA do not belong together"]


def test_aws_issued_certificate_without_its_issuer_is_normal():
    aws_ca_key = new_key("rsa2048")
    key = new_key("rsa2048")
    from pkitools import name
    cert = certificate(key, "thing", issuer_key=aws_ca_key,
                       issuer_name=name("AWS IoT Certificate"))
    findings = checks.check_material(
        Material(Certificate("certs/d.crt", cert), PrivateKey("certs/d.key", key), []),
        amazon_anchors(), endpoint.parse("abc123-ats.iot.us-east-1.amazonaws.com"), NOW)
    assert not findings.errors
    assert "device certificate issued by CN=AWS IoT Certificate (not in the certs folder; normal" in \
        " ".join(findings.infos)


@pytest.mark.parametrize("text, host, port, kind", [
    ("abc123-ats.iot.eu-west-1.amazonaws.com", "abc123-ats.iot.eu-west-1.amazonaws.com", 8883, "aws-ats"),
    ("ABC123-ats.iot.us-gov-west-1.amazonaws.com:8883", "abc123-ats.iot.us-gov-west-1.amazonaws.com", 8883,
     "aws-ats"),
    ("abc123.iot.eu-west-1.amazonaws.com", "abc123.iot.eu-west-1.amazonaws.com", 8883, "aws-legacy"),
    ("mypc.local:8884", "mypc.local", 8884, "other"),
    ("localhost", "localhost", 8883, "other"),
])
def test_endpoint_parse(text, host, port, kind):
    assert endpoint.parse(text) == endpoint.Endpoint(host, port, kind)


@pytest.mark.parametrize("text, reason", [
    ("mqtts://abc-ats.iot.eu-west-1.amazonaws.com", "without a scheme"),
    ("host:0", "invalid port"),
    ("host:99999", "invalid port"),
    ("host:abc", "invalid port"),
    ("bad_host!", "not a valid host name"),
])
def test_endpoint_refused(text, reason):
    with pytest.raises(ValueError, match=reason):
        endpoint.parse(text)


def test_endpoint_shape_findings():
    warnings, errors = endpoint.shape_findings(endpoint.parse("abc.iot.eu-west-1.amazonaws.com"))
    assert "legacy endpoint" in warnings[0] and not errors
    warnings, errors = endpoint.shape_findings(endpoint.parse("abc-ats.iot.amazonaws.com"))
    assert "does not look like an AWS IoT data endpoint" in errors[0]


def test_ats_endpoint_needs_an_amazon_root():
    identity = Identity()
    ats = endpoint.parse("abc123-ats.iot.eu-west-1.amazonaws.com")
    own = [Certificate("certs/ca.pem", identity.ca)]
    assert "are not Amazon's roots" in checks.check_endpoint(ats, own).errors[0]
    assert not checks.check_endpoint(ats, amazon_anchors()).errors


def test_local_broker_with_only_amazon_roots_is_warned():
    findings = checks.check_endpoint(endpoint.parse("mypc.local"), amazon_anchors())
    assert "needs its own CA" in findings.warnings[0]


def test_expired_ca_is_an_error():
    identity = Identity()
    old_ca = certificate(identity.ca_key, "Test CA", ca=True, not_before=NOW - 9 * DAY, not_after=NOW - DAY)
    material = material_of(identity)
    material.cas = [Certificate("certs/ca.pem", old_ca)]
    findings = checks.check_material(material, material.cas, None, NOW)
    assert any("the CA certificate expired" in e for e in findings.errors)

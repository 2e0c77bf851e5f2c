"""A corpus of bad inputs: each gives a clear cause, exit 1, and leaves every existing file as it was."""

import shutil

import pytest

from conftest import run_cli, snapshot
from pkitools import DAY, NOW, Identity, certificate, key_pem, new_key, pem

CERT = "a1b2c3d4e5-certificate.pem.crt"
KEY = "a1b2c3d4e5-private.pem.key"


def replace(name, data):
    def damage(certs, identity):
        (certs / name).write_bytes(data(identity) if callable(data) else data)
    return damage


def truncate(certs, identity):
    text = (certs / CERT).read_bytes()
    (certs / CERT).write_bytes(text[: len(text) // 2])


def bad_base64(certs, identity):
    text = (certs / CERT).read_bytes()
    (certs / CERT).write_bytes(text.replace(b"\n", b"\n@@", 1))


def other_key(certs, identity):
    (certs / KEY).write_bytes(key_pem(new_key()))


def expired(certs, identity):
    cert = certificate(identity.key, "thing", identity.ca_key, identity.ca.subject,
                       not_before=NOW - 30 * DAY, not_after=NOW - DAY)
    (certs / CERT).write_bytes(pem(cert))


def ca_not_a_ca(certs, identity):
    (certs / "AmazonRootCA1.pem").write_bytes(pem(Identity().cert))


def unsigned_by_issuer(certs, identity):
    impostor = Identity()  # a CA of the same name, different key
    (certs / "AmazonRootCA1.pem").write_bytes(pem(impostor.ca))


def small_rsa(certs, identity):
    key = new_key("rsa1024")
    (certs / KEY).write_bytes(key_pem(key))
    (certs / CERT).write_bytes(pem(certificate(key, "thing", identity.ca_key, identity.ca.subject)))


def ed25519_key(certs, identity):
    key = new_key("ed25519")
    (certs / KEY).write_bytes(key_pem(key))
    (certs / CERT).write_bytes(pem(certificate(key, "thing", identity.ca_key, identity.ca.subject)))


def encrypted_without_passphrase(certs, identity):
    (certs / KEY).write_bytes(key_pem(identity.key, passphrase="pw"))


def two_keys(certs, identity):
    (certs / "second.key").write_bytes(key_pem(new_key()))


def empty_certs(certs, identity):
    shutil.rmtree(certs)
    certs.mkdir()


def endpoint_with_scheme(certs, identity):
    pass  # the environment below does the damage


CASES = {
    "truncated PEM": (truncate, {}, f"certs/{CERT}: a PEM block has no END line"),
    "bad base64": (bad_base64, {}, f"certs/{CERT}: not a valid certificate"),
    "key does not match": (other_key, {}, f"certs/{KEY}: no certificate in certs/ matches this private key"),
    "expired": (expired, {}, f"certs/{CERT}: the device certificate expired on"),
    "CA file is not a CA": (ca_not_a_ca, {}, "certs/AmazonRootCA1.pem: a certificate that is neither a CA"),
    "not signed by its issuer": (unsigned_by_issuer, {}, "did not sign it"),
    "RSA-1024": (small_rsa, {}, "RSA-1024 key refused"),
    "Ed25519": (ed25519_key, {}, "key refused: AWS IoT Core and BearSSL do not accept EdDSA"),
    "encrypted key, no passphrase": (encrypted_without_passphrase, {}, "encrypted: set AWS_IOT_KEY_PASSPHRASE"),
    "two keys": (two_keys, {}, "more than one private key"),
    "empty certs": (empty_certs, {}, "certs/: no private key found"),
    "endpoint with scheme": (endpoint_with_scheme, {"AWS_IOT_ENDPOINT": "mqtts://x-ats.iot.eu-west-1.amazonaws.com"},
                             "without a scheme"),
}


@pytest.fixture
def good_project(tmp_path):
    """A project whose data/ already holds good outputs and a file of the user's."""
    identity = Identity(kind="rsa2048")
    certs = identity.write_aws_style(tmp_path / "certs")
    assert run_cli("prepare", "--project-dir", tmp_path).returncode == 0
    (tmp_path / "data" / "config.json").write_text('{"user": "file"}')
    return tmp_path, certs, identity


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
@pytest.mark.parametrize("verb", ["prepare", "check"])
def test_bad_input_fails_cleanly_and_changes_nothing(good_project, case, verb):
    project, certs, identity = good_project
    damage, env, expected = CASES[case]
    damage(certs, identity)
    before = snapshot(project / "data")
    result = run_cli(verb, "--project-dir", project, env={"AWS_IOT_KEY_PASSPHRASE": "", **env})
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert all(line.startswith(("error: ", "warning: ")) for line in result.stderr.splitlines())
    assert snapshot(project / "data") == before


def test_usage_error_exits_2(tmp_path):
    assert run_cli("prepare", "--target", "esp9000").returncode == 2
    assert run_cli("frobnicate").returncode == 2
    assert run_cli().returncode == 2

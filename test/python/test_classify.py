"""Finding and sorting the PEM material of a certs folder, by content."""

import pytest

from espaws.identity import pki
from espaws.errors import InputError
from pkitools import Identity, key_pem, new_key, pem


def load(folder, passphrase=None):
    return pki.load_folder(folder, "certs", passphrase)


@pytest.mark.parametrize("kind", ["ec", "p384", "rsa2048"])
@pytest.mark.parametrize("key_fmt", ["pkcs8", "traditional"])
def test_aws_download_is_sorted_by_content(tmp_path, kind, key_fmt):
    identity = Identity(kind=kind)
    identity.write_aws_style(tmp_path, key_fmt=key_fmt)
    material = load(tmp_path)
    assert material.device.cert == identity.cert
    assert material.device.source == "certs/a1b2c3d4e5-certificate.pem.crt"
    assert [ca.cert for ca in material.cas] == [identity.ca]
    assert pki.public_der(material.key.key.public_key()) == pki.public_der(identity.key.public_key())
    assert any("public.pem.key: ignored" in note for note in material.notes)


def test_names_do_not_matter(tmp_path):
    identity = Identity()
    (tmp_path / "zz.key").write_bytes(pem(identity.cert))        # a certificate named .key
    (tmp_path / "aa.crt").write_bytes(key_pem(identity.key))     # a key named .crt
    (tmp_path / "root.pem").write_bytes(pem(identity.ca))
    material = load(tmp_path)
    assert material.device.source == "certs/zz.key"
    assert material.key.source == "certs/aa.crt"


def test_crlf_bom_and_several_blocks_in_one_file(tmp_path):
    identity = Identity(kind="rsa2048")
    bundle = pem(identity.cert) + pem(identity.ca) + key_pem(identity.key, "traditional")
    (tmp_path / "all-in-one.pem").write_bytes(b"\xef\xbb\xbf" + bundle.replace(b"\n", b"\r\n"))
    material = load(tmp_path)
    assert material.device.cert == identity.cert
    assert material.device.source == "certs/all-in-one.pem (block 1)"
    assert [ca.source for ca in material.cas] == ["certs/all-in-one.pem (block 2)"]


@pytest.mark.parametrize("key_fmt", ["pkcs8", "traditional"])
def test_encrypted_key_with_passphrase(tmp_path, key_fmt):
    identity = Identity(kind="rsa2048")
    identity.write_aws_style(tmp_path, key_fmt=key_fmt, passphrase="s3cret pass")
    material = load(tmp_path, passphrase="s3cret pass")
    assert material.key.key.private_numbers() == identity.key.private_numbers()


def test_encrypted_key_without_passphrase_says_which_variable(tmp_path):
    Identity().write_aws_style(tmp_path, passphrase="pw")
    with pytest.raises(InputError, match="encrypted: set AWS_IOT_KEY_PASSPHRASE"):
        load(tmp_path)


def test_wrong_passphrase(tmp_path):
    Identity().write_aws_style(tmp_path, passphrase="right")
    with pytest.raises(InputError, match="could not be decrypted") as caught:
        load(tmp_path, passphrase="wrong-one")
    assert "wrong-one" not in str(caught.value)


def test_same_key_twice_is_not_ambiguous(tmp_path):
    identity = Identity()
    identity.write_aws_style(tmp_path)
    (tmp_path / "copy.key").write_bytes(key_pem(identity.key))
    assert load(tmp_path).device.cert == identity.cert


def test_two_different_keys_name_both_files(tmp_path):
    Identity().write_aws_style(tmp_path)
    (tmp_path / "other.key").write_bytes(key_pem(new_key()))
    with pytest.raises(InputError, match="more than one private key") as caught:
        load(tmp_path)
    assert "a1b2c3d4e5-private.pem.key" in str(caught.value) and "other.key" in str(caught.value)


def test_two_leaves_for_one_key(tmp_path):
    identity = Identity()
    identity.write_aws_style(tmp_path)
    renewed = Identity()
    from pkitools import certificate
    twin = certificate(identity.key, "renewed", issuer_key=renewed.ca_key, issuer_name=renewed.ca.subject)
    (tmp_path / "renewed.pem.crt").write_bytes(pem(twin))
    with pytest.raises(InputError, match="several device certificates") as caught:
        load(tmp_path)
    assert "renewed.pem.crt" in str(caught.value)


def test_no_key(tmp_path):
    identity = Identity()
    identity.write_aws_style(tmp_path)
    (tmp_path / "a1b2c3d4e5-private.pem.key").unlink()
    with pytest.raises(InputError, match="no private key found"):
        load(tmp_path)


def test_empty_folder_and_missing_folder(tmp_path):
    with pytest.raises(InputError, match="no private key found"):
        load(tmp_path)
    with pytest.raises(InputError, match="folder not found"):
        load(tmp_path / "absent")


def test_a_leaf_posing_as_ca_file(tmp_path):
    identity = Identity()
    identity.write_aws_style(tmp_path, with_ca=False)
    (tmp_path / "AmazonRootCA1.pem").write_bytes(pem(Identity().cert))  # a leaf, not a CA
    with pytest.raises(InputError, match="AmazonRootCA1.pem: a certificate that is neither a CA"):
        load(tmp_path)


def test_key_of_a_ca(tmp_path):
    identity = Identity()
    (tmp_path / "ca.pem").write_bytes(pem(identity.ca))
    (tmp_path / "ca.key").write_bytes(key_pem(identity.ca_key))
    with pytest.raises(InputError, match="belongs to the CA certificate"):
        load(tmp_path)


@pytest.mark.parametrize("damage, message", [
    (lambda text: text[: len(text) // 2], "no END line"),
    (lambda text: text.replace(b"MI", b"!!", 1), "not a valid certificate"),
    (lambda text: text.replace(b"END CERTIFICATE", b"END PRIVATE KEY"), "ends as"),
    (lambda text: b"", "holds no PEM block"),
])
def test_damaged_certificate_file(tmp_path, damage, message):
    identity = Identity()
    identity.write_aws_style(tmp_path)
    path = tmp_path / "a1b2c3d4e5-certificate.pem.crt"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(InputError, match=message) as caught:
        load(tmp_path)
    assert "a1b2c3d4e5-certificate.pem.crt" in str(caught.value)


def test_readme_and_hidden_files_are_left_alone(tmp_path):
    Identity().write_aws_style(tmp_path)
    (tmp_path / "README.md").write_text("my notes")
    (tmp_path / ".gitkeep").write_text("")
    material = load(tmp_path)
    assert "certs/README.md: ignored, not a PEM file" in material.notes


@pytest.mark.parametrize("damage", ["d", "dmp1", "iqmp"])
def test_damaged_rsa_key_is_caught_though_its_public_part_matches(tmp_path, damage):
    from cryptography.hazmat.primitives.asymmetric import rsa
    identity = Identity(kind="rsa2048")
    identity.write_aws_style(tmp_path)
    numbers = identity.key.private_numbers()
    parts = {name: getattr(numbers, name) for name in ("p", "q", "d", "dmp1", "dmq1", "iqmp")}
    parts[damage] += 2
    broken = rsa.RSAPrivateNumbers(**parts, public_numbers=numbers.public_numbers)
    damaged = broken.private_key(unsafe_skip_rsa_key_validation=True)
    (tmp_path / "a1b2c3d4e5-private.pem.key").write_bytes(key_pem(damaged))
    with pytest.raises(InputError, match="the RSA private key is damaged"):
        load(tmp_path)

"""Test PKI made at run time: CAs, device certificates and keys, AWS-style files."""

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def new_key(kind="ec"):
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "p521":
        return ec.generate_private_key(ec.SECP521R1())
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, int(kind[3:] or 2048))
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "dsa":
        return dsa.generate_private_key(2048)
    raise ValueError(kind)


def name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate(subject_key, common_name, issuer_key=None, issuer_name=None, ca=False,
                not_before=None, not_after=None, dns=()):
    issuer_key = issuer_key or subject_key
    builder = (x509.CertificateBuilder()
               .subject_name(name(common_name))
               .issuer_name(issuer_name or name(common_name))
               .public_key(subject_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - DAY)
               .not_valid_after(not_after or NOW + 365 * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    algorithm = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(issuer_key, algorithm)


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key, fmt="pkcs8", passphrase=None):
    formats = {"pkcs8": serialization.PrivateFormat.PKCS8,
               "traditional": serialization.PrivateFormat.TraditionalOpenSSL}
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, formats[fmt], encryption)


class Identity:
    """A CA and a device certificate signed by it."""

    def __init__(self, kind="ec", ca_kind="ec", **device_args):
        self.ca_key = new_key(ca_kind)
        self.ca = certificate(self.ca_key, "Test CA", ca=True)
        self.key = new_key(kind)
        self.cert = certificate(self.key, "test-thing", issuer_key=self.ca_key,
                                issuer_name=self.ca.subject, **device_args)

    def write_aws_style(self, folder, prefix="a1b2c3d4e5", with_ca=True, key_fmt="traditional",
                        passphrase=None, crlf=False, bom=False):
        """Files named as AWS IoT's console names them; returns the folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)

        def write(filename, data):
            if crlf:
                data = data.replace(b"\n", b"\r\n")
            if bom:
                data = b"\xef\xbb\xbf" + data
            (folder / filename).write_bytes(data)

        write(f"{prefix}-certificate.pem.crt", pem(self.cert))
        write(f"{prefix}-private.pem.key", key_pem(self.key, key_fmt, passphrase))
        write(f"{prefix}-public.pem.key", self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        if with_ca:
            write("AmazonRootCA1.pem", pem(self.ca))
        return folder

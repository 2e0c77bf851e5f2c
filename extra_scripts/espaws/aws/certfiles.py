"""The device identity register keeps in certs/: file names, the pending key, retired files.

Crash safety: the private key is written (fsynced) to certs/.pending/<thing>-private.pem.key
BEFORE AWS issues a certificate for it, so AWS never holds an active certificate whose key
was lost. The certificate is then written to certs/ and the key moved next to it, the key
last: the pending key is the marker that an installation is not finished. Folders starting
with '.' are never read by prepare, so a pending or retired key never disturbs the board's files.
"""

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ..identity import pki
from ..errors import InputError
from ..identity.writer import write_if_changed

PENDING = ".pending"
RETIRED = ".retired"
CERT_SUFFIX = "-certificate.pem.crt"
KEY_SUFFIX = "-private.pem.key"
ID_PREFIX = 10  # AWS's console names downloads after the first 10 characters of the certificate id


@dataclass
class Installed:
    cert_path: Path
    key_path: Path
    cert: x509.Certificate

    @property
    def certificate_id(self):
        return certificate_id(self.cert)


def certificate_id(cert):
    """AWS IoT's certificate id: the SHA-256 of the certificate's DER encoding, in hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def file_names(cert_id):
    stem = cert_id[:ID_PREFIX]
    return stem + CERT_SUFFIX, stem + KEY_SUFFIX


def new_key(key_type):
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def csr_pem(key, thing):
    """A CSR for `key`; AWS takes the public key from it and issues its own certificate."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, thing)])
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode("ascii")


def same_key(cert, key):
    return pki.public_der(cert.public_key()) == pki.public_der(key.public_key())


def pending_path(certs_dir, thing):
    return Path(certs_dir) / PENDING / f"{thing}{KEY_SUFFIX}"


def write_pending(certs_dir, thing, key):
    path = pending_path(certs_dir, thing)
    write_if_changed(path, key_pem(key), private=True, durable=True)
    return path


def load_pending(certs_dir, thing):
    """(path, key) of an unfinished installation for `thing`, or None."""
    path = pending_path(certs_dir, thing)
    if not path.is_file():
        return None
    try:
        return path, serialization.load_pem_private_key(path.read_bytes(), None)
    except ValueError:
        raise InputError(f"{path}: a damaged pending key from an earlier run: delete it and run again") from None


def installed(certs_dir, shown="certs", passphrase=None):
    """The device certificate and key in certs/ (as prepare reads them), or None when certs/ holds
    neither a private key nor a device certificate. Anything inconsistent is an InputError."""
    certs_dir = Path(certs_dir)
    if not _holds_identity(certs_dir):
        return None
    material = pki.load_folder(certs_dir, shown, passphrase)
    return Installed(material.device.path, material.key.path, material.device.cert)


def _holds_identity(folder):
    if not folder.is_dir():
        return False
    for path in folder.iterdir():
        if path.is_file() and not path.name.startswith("."):
            data = path.read_bytes()
            if b"PRIVATE KEY-----" in data or path.name.endswith(CERT_SUFFIX):
                return True
    return False


def installed_cert_for(certs_dir, key):
    """A certificate file in certs/ (AWS's name) for `key`, written before a crash: or None."""
    for path in sorted(Path(certs_dir).glob(f"*{CERT_SUFFIX}")):
        try:
            cert = x509.load_pem_x509_certificate(path.read_bytes())
        except ValueError:
            continue
        if same_key(cert, key):
            return cert
    return None


def install(certs_dir, cert, pending_key_path, passphrase=None):
    """Put the new certificate and its pending key into certs/ under AWS's names; any other
    identity there (a rotation) moves to certs/.retired/. Returns the Installed identity.
    `passphrase` opens an encrypted key already there, so a rotation finds it."""
    certs_dir = Path(certs_dir)
    cert_name, key_name = file_names(certificate_id(cert))
    previous = installed_quietly(certs_dir, passphrase)
    if previous and previous.cert_path.name != cert_name:
        retire(certs_dir, previous)
    cert_path, key_path = certs_dir / cert_name, certs_dir / key_name
    write_if_changed(cert_path, cert.public_bytes(serialization.Encoding.PEM), durable=True)
    os.replace(pending_key_path, key_path)  # last: no pending key means the installation is complete
    with contextlib.suppress(OSError):
        Path(pending_key_path).parent.rmdir()  # only when empty
    return Installed(cert_path, key_path, cert)


def installed_quietly(certs_dir, passphrase=None):
    try:
        return installed(certs_dir, passphrase=passphrase)
    except InputError:
        return None


def retire(certs_dir, installed_identity):
    folder = Path(certs_dir) / RETIRED
    folder.mkdir(mode=0o700, exist_ok=True)
    for path in (installed_identity.cert_path, installed_identity.key_path):
        os.replace(path, folder / path.name)


def retired_certificates(certs_dir):
    """[(path, certificate)] moved aside by a rotation: to be deactivated in AWS."""
    folder = Path(certs_dir) / RETIRED
    found = []
    for path in sorted(folder.glob(f"*{CERT_SUFFIX}")) if folder.is_dir() else []:
        try:
            found.append((path, x509.load_pem_x509_certificate(path.read_bytes())))
        except ValueError:
            continue
    return found

"""Read the PEM files of a certs folder and sort their contents by what they are.

Classification goes by content, never by file name: the device certificate is
the leaf whose public key matches the private key, CA certificates are the ones
with basicConstraints CA:TRUE, public keys are ignored (AWS hands one out that
the board does not need).
"""

import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import utils as crypto_utils
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import InputError, NoIdentity

PEM_SUFFIXES = (".pem", ".crt", ".cer", ".key")
_BOM = b"\xef\xbb\xbf"
FIRST_IDENTITY_HINT = ("(or, for a first try, run `pio run -t iot-dev-certs` for development certificates, "
                       "or the `register` verb for a thing registered with AWS IoT)")
_BEGIN, _END, _DASHES = b"-----BEGIN ", b"-----END ", b"-----"
_LABEL = re.compile(rb"[A-Z0-9 ]+")
_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
_IGNORED_LABELS = {
    "PUBLIC KEY": "a public key (AWS's *-public.pem.key): the board does not need it",
    "EC PARAMETERS": "EC parameters (openssl ecparam output): not needed",
    "CERTIFICATE REQUEST": "a certificate signing request: not needed on the board",
    "X509 CRL": "a certificate revocation list: the board does not read it",
}


@dataclass(frozen=True)
class Certificate:
    source: str  # "certs/x.pem" or "certs/x.pem (block 2)", for messages
    cert: x509.Certificate
    path: object = None  # the file it came from (a Path); None for certifi's roots

    @property
    def is_ca(self):
        try:
            return self.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            return False

    @property
    def fingerprint(self):
        return self.cert.fingerprint(hashes.SHA256())

    @property
    def subject(self):
        return self.cert.subject.rfc4514_string()


@dataclass(frozen=True)
class PrivateKey:
    source: str
    key: object  # a cryptography private key
    path: object = None  # the file it came from (a Path)


@dataclass
class Material:
    """What a certs folder holds, sorted; `notes` say what was ignored and why."""
    device: Certificate
    key: PrivateKey
    cas: list
    notes: list = field(default_factory=list)
    ignored: list = field(default_factory=list)  # [(source, PEM label)] of the blocks left out


def name_as_text(name):
    """A file name as text that any terminal prints: bytes that are not UTF-8 as \\x escapes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_folder(folder, display_root, passphrase=None, skip=()):
    """Classify the top-level files of `folder` except those named in `skip`; raise InputError
    listing every problem, NoIdentity when there is no device certificate and no private key."""
    # cryptography warns (with its own file paths) about some odd but loadable certificates:
    # the problems that matter are reported here, one line each.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crypto_utils.CryptographyDeprecationWarning)
        return _load_folder(Path(folder), name_as_text(display_root).rstrip("/"), passphrase, skip)


def _load_folder(folder, shown, passphrase, skip):
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{shown}: a file stands where the certs folder should be: rename it and put the "
                         f"PEM files from AWS IoT in a folder {shown}/")
    if not folder.is_dir():
        raise NoIdentity(f"{shown}/: folder not found: put the PEM files from AWS IoT there "
                         f"{FIRST_IDENTITY_HINT}")
    try:
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in skip)
    except OSError as error:
        raise InputError(f"{shown}/: cannot be read ({error.strerror}): check the folder's permissions") from None
    certs, keys, notes, ignored, problems = [], [], [], [], []
    inside = folder.resolve()
    for path in entries:
        name = f"{shown}/{name_as_text(path.name)}"
        if path.is_symlink() and inside not in path.resolve().parents:
            problems.append(f"{name}: a symbolic link to outside {shown}/: copy the file into {shown}/ instead")
            continue
        if not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError as error:
            problems.append(f"{name}: cannot be read ({error.strerror}): check the file's permissions")
            continue
        blocks, problem = _pem_blocks(data)
        if problem:
            problems.append(f"{name}: {problem}")
            continue
        if not blocks:
            if path.suffix.lower() in PEM_SUFFIXES:
                problems.append(f"{name}: holds no PEM block: is it truncated, or DER? "
                                "Put the PEM file from AWS IoT here")
            else:
                notes.append(f"{name}: ignored, not a PEM file")
            continue
        for index, (label, block) in enumerate(blocks, 1):
            source = name if len(blocks) == 1 else f"{name} (block {index})"
            try:
                if label == "CERTIFICATE":
                    certs.append(Certificate(source, _load_certificate(block), path))
                elif label in _KEY_LABELS:
                    keys.append(PrivateKey(source, _load_key(block, passphrase), path))
                elif label in _IGNORED_LABELS:
                    notes.append(f"{source}: ignored, {_IGNORED_LABELS[label]}")
                    ignored.append((source, label))
                else:
                    notes.append(f"{source}: ignored, a PEM block of type {label}")
                    ignored.append((source, label))
            except _KeyProblem as reason:
                problems.append(f"{source}: {reason}")
            except (ValueError, TypeError):
                kind = "certificate" if label == "CERTIFICATE" else "private key"
                problems.append(f"{source}: not a valid {kind} (bad base64, truncated or corrupted): "
                                "download the file again from AWS IoT")
    if problems:
        raise InputError(problems)
    material = _sort(certs, _unique_keys(keys), notes, shown)
    material.ignored = ignored
    return material


def _load_certificate(block):
    """An x509 certificate whose every part the checks read can be read; else _KeyProblem."""
    try:
        cert = x509.load_pem_x509_certificate(block)
    except x509.InvalidVersion:
        raise _KeyProblem("not a valid certificate (invalid X.509 version): download the file again "
                          "from AWS IoT") from None
    # cryptography parses parts lazily: read them all now, so no check meets a surprise later.
    try:
        cert.extensions  # noqa: B018
        cert.public_key()
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        cert.not_valid_before_utc, cert.not_valid_after_utc  # noqa: B018
    except UnsupportedAlgorithm:
        raise _KeyProblem("the certificate's public key is of a type this PC's cryptography library "
                          "cannot read: the boards take RSA and EC P-256 / P-384 certificates") from None
    except (ValueError, TypeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as error:
        raise _KeyProblem(f"the certificate cannot be read ({_first_line(error)}): it is damaged or "
                          "malformed; download it again from AWS IoT") from None
    return cert


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0][:120] if text else type(error).__name__


class _KeyProblem(Exception):
    pass


def _pem_blocks(data):
    """[(label, pem bytes)] of a file, or a problem; accepts a BOM and CRLF line ends.

    One forward scan (str.find), linear in the file's size whatever it holds: a file of
    BEGIN lines alone must not take quadratic time, as a lazy regex over it did.
    """
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    blocks = []
    begin = data.find(_BEGIN)
    while begin != -1:
        end = data.find(_END, begin)
        next_begin = data.find(_BEGIN, begin + len(_BEGIN))
        if end == -1 or (next_begin != -1 and next_begin < end):
            return [], "a PEM block has no END line: the file is truncated; download it again"
        label, body = _label_at(data, begin + len(_BEGIN))
        end_label, close = _label_at(data, end + len(_END))
        if label is None or end_label is None or data[body:body + 1] != b"\n":
            return [], "a PEM block has a damaged BEGIN or END line: download the file again"
        if label != end_label:
            return [], f"a PEM block starts as {label} but ends as {end_label}: the file is damaged"
        blocks.append((label, data[begin:close] + b"\n"))
        begin = next_begin
    return blocks, None


def _label_at(data, start):
    """(label, index after its closing dashes) of `LABEL-----` at `start`, or (None, start).

    Only up to the next dashes: `-----END X----------BEGIN Y-----` (two files concatenated
    without a newline) still reads as two blocks.
    """
    close = data.find(_DASHES, start)
    if close == -1 or not _LABEL.fullmatch(data[start:close]):
        return None, start
    return data[start:close].decode(), close + len(_DASHES)


def _load_key(block, passphrase):
    encrypted = b"ENCRYPTED" in block.split(b"\n", 2)[0] or b"Proc-Type: 4,ENCRYPTED" in block
    if encrypted and not passphrase:
        raise _KeyProblem("the private key is encrypted: set AWS_IOT_KEY_PASSPHRASE "
                                    "(environment or .env) so it can be decrypted on this PC")
    password = passphrase.encode("utf-8") if encrypted else None
    try:
        # cryptography's RSA validation costs ~35 ms a key, mostly primality tests; the arithmetic
        # checks below cover what the board relies on (all private parts fit together) in microseconds.
        key = serialization.load_pem_private_key(block, password=password, unsafe_skip_rsa_key_validation=True)
    except ValueError:
        if encrypted:
            raise _KeyProblem("the private key could not be decrypted with "
                                        "AWS_IOT_KEY_PASSPHRASE: check the passphrase") from None
        raise
    except UnsupportedAlgorithm:
        raise _KeyProblem("the private key uses an algorithm this PC's cryptography "
                          "library cannot read: use an RSA or EC P-256 / P-384 key") from None
    if isinstance(key, rsa.RSAPrivateKey) and not _rsa_parts_fit(key):
        raise _KeyProblem("the RSA private key is damaged (its private parts do not fit its public key): "
                          "download it again")
    return key


def _rsa_parts_fit(key):
    """n = pq, e·d = 1 mod lcm(p-1, q-1), and the CRT parts BearSSL signs with agree with d."""
    numbers = key.private_numbers()
    public = numbers.public_numbers
    p, q, d = numbers.p, numbers.q, numbers.d
    return (p * q == public.n and public.e * d % math.lcm(p - 1, q - 1) == 1
            and numbers.dmp1 == d % (p - 1) and numbers.dmq1 == d % (q - 1) and numbers.iqmp * q % p == 1)


def _unique_keys(keys):
    unique = {}
    for key in keys:
        unique.setdefault(public_der(key.key.public_key()), key)
    return list(unique.values())


def _unique_certs(certs):
    unique = {}
    for cert in certs:
        unique.setdefault(cert.fingerprint, cert)
    return list(unique.values())


def _sort(certs, keys, notes, shown):
    certs = _unique_certs(certs)
    if not keys and all(c.is_ca for c in certs):
        raise NoIdentity(f"{shown}/: no private key found, nor a device certificate: add the certificate and "
                         f"the <id>-private.pem.key file from AWS IoT {FIRST_IDENTITY_HINT}")
    if not keys:
        raise InputError(f"{shown}/: no private key found: add the <id>-private.pem.key file "
                         "downloaded with the device certificate")
    if len(keys) > 1:
        raise InputError(f"{shown}/: more than one private key ({', '.join(k.source for k in keys)}): "
                         "keep only the one that belongs to the device certificate")
    key = keys[0]
    key_public = public_der(key.key.public_key())
    matching = [c for c in certs if public_der(c.cert.public_key()) == key_public]
    leaves = [c for c in matching if not c.is_ca]
    if not leaves:
        if matching:
            raise InputError(f"{key.source}: this private key belongs to the CA certificate "
                             f"{matching[0].source}, not to a device certificate: put the device's own "
                             "key and certificate in the folder")
        others = [c.source for c in certs if not c.is_ca]
        found = f" (device certificates found: {', '.join(others)})" if others else ""
        raise InputError(f"{key.source}: no certificate in {shown}/ matches this private key{found}: "
                         "put the certificate and the key of the same AWS IoT certificate in the folder")
    if len(leaves) > 1:
        raise InputError(f"{shown}/: several device certificates match the private key "
                         f"({', '.join(c.source for c in leaves)}): keep only one")
    device = leaves[0]
    strays = [c for c in certs if not c.is_ca and c is not device]
    if strays:
        raise InputError([
            f"{c.source}: a certificate that is neither a CA certificate (basicConstraints CA:TRUE) nor "
            f"the device certificate: a trust anchor must be a CA certificate such as AmazonRootCA1.pem; "
            "remove this file" for c in strays])
    cas = [c for c in certs if c.is_ca]
    return Material(device=device, key=key, cas=cas, notes=notes)

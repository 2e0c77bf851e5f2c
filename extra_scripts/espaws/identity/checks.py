"""Validation of the classified certificate material, before anything is written.

Pure: takes the material, the trust anchors, the endpoint and the current time,
returns findings. Nothing here reads files or the environment.
"""

import datetime
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from . import amazon_roots, targets
from .endpoint import shape_findings

EXPIRY_WARNING = datetime.timedelta(days=30)
ACCEPTED_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384"}
# Curves BearSSL and mbedTLS verify a CA's signature with (P-521 too, for anchors only).
ANCHOR_CURVES = {**ACCEPTED_CURVES, "secp521r1": "P-521"}
# RSA above this makes one BearSSL signature outlast the ESP8266's software watchdog (~3.2 s):
# the board resets in every handshake (esp8266/Arduino#7574).
ESP8266_MAX_RSA_BITS = 2048
RSA_PSS_OID = "1.2.840.113549.1.1.10"


@dataclass
class Findings:
    infos: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def extend(self, other):
        self.infos += other.infos
        self.warnings += other.warnings
        self.errors += other.errors


def describe_key(key):
    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"EC {ACCEPTED_CURVES.get(key.curve.name, key.curve.name)}"
    return type(key).__name__.replace("PrivateKey", "").lstrip("_")


def check_key_type(key, source, target=None):
    """An error text when AWS IoT Core or the target's TLS stack refuses this key, else None."""
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            return (f"{source}: RSA-{key.key_size} key refused: AWS IoT Core requires RSA keys of 2048 "
                    "bits or more; create a new certificate with an RSA-2048 or EC P-256 key")
        if target == "esp8266" and key.key_size > ESP8266_MAX_RSA_BITS:
            return (f"{source}: RSA-{key.key_size} key refused for the ESP8266: its BearSSL signature in "
                    "every handshake outlasts the board's watchdog (a reset each time); create the "
                    "certificate with an EC P-256 key (or RSA-2048)")
        if key.key_size > 4096:
            return (f"{source}: RSA-{key.key_size} key refused: the boards' TLS stacks are used with RSA "
                    "keys up to 4096 bits; use EC P-256 or RSA-2048")
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name in ACCEPTED_CURVES:
            return None
        return (f"{source}: EC key on curve {key.curve.name} refused: AWS IoT Core and the boards accept "
                "EC P-256 and P-384 device keys; create a P-256 key")
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return (f"{source}: {describe_key(key)} key refused: AWS IoT Core and BearSSL do not accept EdDSA "
                "keys for TLS client certificates; use EC P-256 or RSA-2048")
    if isinstance(key, dsa.DSAPrivateKey):
        return (f"{source}: DSA key refused: AWS IoT Core and TLS 1.2 stacks on the boards do not accept "
                "DSA client certificates; use EC P-256 or RSA-2048")
    return f"{source}: {describe_key(key)} key refused: use EC P-256 or RSA-2048"


def check_anchor_key(anchor, target):
    """An error text when the target's TLS library cannot verify with this CA's key, else None.

    BearSSL and mbedTLS 2.28 take RSA (rsaEncryption) and EC P-256 / P-384 / P-521 anchors; an
    Ed25519, Ed448, DSA or RSA-PSS key fails every handshake on the board (BearSSL: error 49).
    """
    library = (f"{targets.TLS_LIBRARIES[target]} ({target.upper()})" if target in targets.TLS_LIBRARIES
               else "the board's TLS library")
    oid = getattr(anchor.cert, "public_key_algorithm_oid", None)
    public = anchor.cert.public_key()
    if isinstance(public, rsa.RSAPublicKey) and (oid is None or oid.dotted_string != RSA_PSS_OID):
        return None
    if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in ANCHOR_CURVES:
        return None
    kind = "RSA-PSS" if isinstance(public, rsa.RSAPublicKey) else _public_kind(public)
    return (f"{anchor.source}: a CA certificate with an {kind} key, which {library} cannot verify with: "
            "the board would fail every handshake; use a CA with an RSA or EC P-256 / P-384 key "
            "(Amazon Root CA 1 and 3 for AWS IoT)")


def _public_kind(public):
    if isinstance(public, ec.EllipticCurvePublicKey):
        return f"EC {public.curve.name}"
    return type(public).__name__.replace("PublicKey", "").lstrip("_") or "unknown"


def check_validity(cert, now, role):
    """Findings for the certificate's validity window at `now` (an aware datetime)."""
    findings = Findings()
    not_before, not_after = cert.cert.not_valid_before_utc, cert.cert.not_valid_after_utc
    if now < not_before:
        findings.errors.append(f"{cert.source}: the {role} is not valid before {not_before:%Y-%m-%d %H:%M} UTC: "
                               "check this PC's clock, or wait")
    elif now > not_after:
        findings.errors.append(f"{cert.source}: the {role} expired on {not_after:%Y-%m-%d} UTC: "
                               "create a new certificate (AWS IoT console, Security, Certificates)")
    elif not_after - now < EXPIRY_WARNING:
        days = (not_after - now).days
        findings.warnings.append(f"{cert.source}: the {role} expires in {days} day{'s' if days != 1 else ''} "
                                 f"({not_after:%Y-%m-%d} UTC): plan its rotation")
    return findings


def check_issuer(device, cas):
    """Report the device certificate's issuer; verify the signature when the issuer is at hand."""
    findings = Findings()
    issuer = device.cert.issuer
    candidates = [ca for ca in cas if ca.cert.subject == issuer]
    issuer_text = issuer.rfc4514_string() or "(empty issuer)"
    if not candidates:
        findings.infos.append(f"device certificate issued by {issuer_text} (not in the certs folder; "
                              "normal for certificates AWS IoT created)")
        return findings
    for ca in candidates:
        try:
            device.cert.verify_directly_issued_by(ca.cert)
        except (ValueError, TypeError, InvalidSignature):
            continue
        findings.infos.append(f"device certificate issued by {issuer_text}: signature verified "
                              f"with {ca.source}")
        return findings
    findings.errors.append(f"{device.source}: names {candidates[0].source} as its issuer, but that CA did not "
                           "sign it: the certificate and the CA do not belong together")
    return findings


def check_endpoint(endpoint, anchors):
    """Findings for the endpoint's shape and whether the trust anchors can verify its server."""
    findings = Findings()
    if endpoint is None:
        findings.infos.append("AWS_IOT_ENDPOINT not set: endpoint checks skipped")
        return findings
    warnings, errors = shape_findings(endpoint)
    findings.warnings += warnings
    findings.errors += errors
    has_amazon = any(amazon_roots.is_amazon_root(a.cert) for a in anchors)
    if endpoint.kind == "aws-ats" and not has_amazon:
        findings.errors.append(
            f"the trust anchors ({'; '.join(f'{a.source}: {a.subject}' for a in anchors)}) are not Amazon's "
            f"roots, so they cannot verify AWS IoT's server {endpoint.host}: put Amazon Root CA 1 "
            "(AmazonRootCA1.pem) in the certs folder, or remove the CA file so Amazon's roots are used")
    elif endpoint.kind == "other" and anchors and all(amazon_roots.is_amazon_root(a.cert) for a in anchors):
        findings.warnings.append(
            f"AWS_IOT_ENDPOINT {endpoint.host} is not AWS IoT, but the only trust anchors are Amazon's roots: "
            "a local broker needs its own CA in the certs folder")
    return findings


def check_material(material, anchors, endpoint, now, target=None):
    """Every check on one device's material; returns Findings (errors mean: write nothing)."""
    findings = Findings()
    key_problem = check_key_type(material.key.key, material.key.source, target)
    if key_problem:
        findings.errors.append(key_problem)
    findings.errors += [p for p in (check_anchor_key(a, target) for a in anchors) if p]
    findings.infos.append(f"device certificate: {material.device.source} "
                          f"({material.device.subject or 'no subject'}), key {describe_key(material.key.key)} "
                          f"from {material.key.source}")
    findings.extend(check_validity(material.device, now, "device certificate"))
    for anchor in anchors:
        findings.extend(check_validity(anchor, now, "CA certificate"))
    findings.extend(check_issuer(material.device, material.cas))
    findings.extend(check_endpoint(endpoint, anchors))
    return findings

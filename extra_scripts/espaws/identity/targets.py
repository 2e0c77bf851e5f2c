"""What each board's TLS stack reads, and the bytes of every file it gets.

ESP8266 (BearSSL in WiFiClientSecure): one DER object per file, since BearSSL
recognises DER only when the outer length equals the buffer length; one file per
trust anchor. ESP32 (mbedTLS in WiFiClientSecure): NUL-terminated PEM text, so
clean PEM files, every trust anchor in one.
"""

from typing import NamedTuple

PLATFORM_TARGETS = {"espressif8266": "esp8266", "espressif32": "esp32"}
TARGETS = ("esp8266", "esp32")
KEY_FORMATS = ("pkcs8", "traditional")
MAX_ANCHORS = 8  # the device client reads ca.der, ca_2.der ... up to this many
# Every name render() can write, for either target: what data/.gitignore keeps out of git.
OUTPUT_PATTERNS = ("ca.der", "ca_*.der", "cert.der", "private.der", "ca.pem", "cert.pem", "private.pem")
TLS_LIBRARIES = {"esp8266": "BearSSL", "esp32": "mbedTLS"}


class Output(NamedTuple):  # not a dataclass: the build glue imports this module on every build
    name: str
    data: bytes
    private: bool = False


def target_for_platform(platform):
    """The target for PlatformIO's resolved platform name, or None when unknown."""
    return PLATFORM_TARGETS.get(platform)


def render(target, device_cert, key, anchors, key_format="pkcs8"):
    """[Output] for `target`; anchors are x509 certificates, the main one first."""
    from cryptography.hazmat.primitives import serialization  # here: the extra script loads this module
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")
    if key_format not in KEY_FORMATS:
        raise ValueError(f"unknown key format {key_format!r}: use one of {', '.join(KEY_FORMATS)}")
    if not 1 <= len(anchors) <= MAX_ANCHORS:
        raise ValueError(f"between 1 and {MAX_ANCHORS} trust anchors are needed, got {len(anchors)}")
    if target == "esp8266":
        encoding = serialization.Encoding.DER
        cas = [Output(anchor_name(i), a.public_bytes(encoding)) for i, a in enumerate(anchors)]
        return cas + [
            Output("cert.der", device_cert.public_bytes(encoding)),
            Output("private.der", private_bytes(key, encoding, key_format), private=True),
        ]
    encoding = serialization.Encoding.PEM
    return [
        Output("ca.pem", b"".join(a.public_bytes(encoding) for a in anchors)),
        Output("cert.pem", device_cert.public_bytes(encoding)),
        Output("private.pem", private_bytes(key, encoding, key_format), private=True),
    ]


def anchor_name(index):
    return "ca.der" if index == 0 else f"ca_{index + 1}.der"


def private_bytes(key, encoding, key_format):
    from cryptography.hazmat.primitives import serialization
    # "traditional" is PKCS#1 for RSA and SEC1 for EC: both read by BearSSL and mbedTLS.
    fmt = (serialization.PrivateFormat.PKCS8 if key_format == "pkcs8"
           else serialization.PrivateFormat.TraditionalOpenSSL)
    return key.private_bytes(encoding, fmt, serialization.NoEncryption())

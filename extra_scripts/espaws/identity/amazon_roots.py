"""Amazon Root CA 1 and 3 from certifi's copy of Mozilla's CA bundle (no network).

An ATS endpoint's chain ends in Amazon Root CA 1 (RSA) or Amazon Root CA 3 (ECC)
depending on the negotiated cipher suite, so a board trusts both.
"""

import functools
import re

LABELS = ("Amazon Root CA 1", "Amazon Root CA 3")
AMAZON_SUBJECTS = tuple(f"CN=Amazon Root CA {n},O=Amazon,C=US" for n in (1, 2, 3, 4))


def bundle_path():
    import certifi
    return certifi.where()


def load(path=None):
    """[(label, x509.Certificate)] for Amazon Root CA 1 and 3, from the bundle at `path`."""
    return list(_load(path or bundle_path()))


@functools.lru_cache(maxsize=None)  # a batch of devices reads the bundle once per process
def _load(path):
    from cryptography import x509
    with open(path, "rb") as bundle:
        text = bundle.read()
    roots = []
    for label in LABELS:
        # certifi's bundle puts `# Label: "..."` comments before each certificate: find it
        # there instead of parsing the whole bundle.
        match = re.search(rb'# Label: "' + re.escape(label.encode()) + rb'"\n(?:#[^\n]*\n)*'
                          rb"(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)", text, re.S)
        if not match:
            raise LookupError(f"{label} is not in the CA bundle {path}: update certifi "
                              "(pip install -U certifi) or put AmazonRootCA1.pem in certs/")
        roots.append((label, x509.load_pem_x509_certificate(match.group(1))))
    return tuple(roots)


def is_amazon_root(cert):
    return cert.subject.rfc4514_string() in AMAZON_SUBJECTS and cert.issuer == cert.subject

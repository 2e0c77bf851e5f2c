"""Shared parts of the TLS tests: the Debian packages they need, a development PKI made at
test time, a real mosquitto broker on 127.0.0.1, and the data/ files the board would read.

`write_data_files` is the one place that produces data/: swap it for the plugin's
real `prepare` output and every end-to-end test follows.
"""

import datetime
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "extra_scripts"))

from aws_iot_tools import broker, devpki, native, probe  # noqa: E402

DEVICE_NAME = "test-device"
INSTALL = "apt-get install mosquitto libbearssl-dev libmbedtls-dev gcc"


# ---- what is installed ----

def _header_present(header):
    if not shutil.which("gcc"):
        return False
    done = subprocess.run(["gcc", "-E", "-x", "c", "-"], input=f"#include <{header}>\n",
                          capture_output=True, text=True)
    return done.returncode == 0


def require_library(library):
    client = native.CLIENTS[library]
    if not _header_present(client.header):
        pytest.skip(f"{client.debian_package} is not installed ({INSTALL})")


def require_mosquitto():
    if not broker.find_mosquitto():
        pytest.skip(f"mosquitto is not installed ({INSTALL})")


# ---- PKI made at test time ----

@dataclass(frozen=True)
class Authority:
    cert_pem: bytes
    key_pem: bytes

    def device(self, key_type="ec", **kwargs):
        """(cert_pem, key_pem) of a device certificate issued by this CA."""
        return devpki.issue_device_certificate(self.cert_pem, self.key_pem, key_type,
                                               kwargs.pop("common_name", DEVICE_NAME), **kwargs)


def new_authority(key_type="ec", common_name=devpki.CA_COMMON_NAME):
    return Authority(*devpki.create_ca(key_type, common_name))


def days_from_now(days):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)


# ---- data/ as the plugin writes it (architecture.md, "Files in data/ per target") ----

def write_data_files(data_dir, target, ca_pems, cert_pem, key_pem, key_format="pkcs8"):
    """Write the board's files for `target` into data_dir; return probe.DataFiles.

    esp8266: ca.der, ca_2.der, ... one DER certificate each, cert.der, private.der;
    esp32: ca.pem (all anchors), cert.pem, private.pem. Keys are PKCS#8 or, with
    key_format "traditional", PKCS#1 (RSA) / SEC1 (EC).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    anchors = [x509.load_pem_x509_certificate(pem) for pem in ca_pems]
    cert = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, None)
    private_format = (serialization.PrivateFormat.PKCS8 if key_format == "pkcs8"
                      else serialization.PrivateFormat.TraditionalOpenSSL)
    encoding = (serialization.Encoding.DER if target == "esp8266"
                else serialization.Encoding.PEM)
    key_bytes = key.private_bytes(encoding, private_format, serialization.NoEncryption())
    if target == "esp8266":
        for index, anchor in enumerate(anchors):
            name = "ca.der" if index == 0 else f"ca_{index + 1}.der"
            (data_dir / name).write_bytes(anchor.public_bytes(encoding))
        (data_dir / "cert.der").write_bytes(cert.public_bytes(encoding))
        (data_dir / "private.der").write_bytes(key_bytes)
    else:
        (data_dir / "ca.pem").write_bytes(b"".join(a.public_bytes(encoding) for a in anchors))
        (data_dir / "cert.pem").write_bytes(cert.public_bytes(encoding))
        (data_dir / "private.pem").write_bytes(key_bytes)
    return probe.data_files(data_dir, target)


# ---- fixtures ----

@pytest.fixture(scope="session")
def dev_ca():
    """The development CA that signs the broker's and the good devices' certificates."""
    return new_authority("ec")


@pytest.fixture(scope="session")
def native_build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("native-build")


@pytest.fixture(scope="session")
def running_broker(tmp_path_factory, dev_ca):
    """mosquitto on 127.0.0.1 at a free port: TLS 1.2, client certificates from dev_ca."""
    require_mosquitto()
    with broker.running_broker(tmp_path_factory.mktemp("broker"), dev_ca.cert_pem,
                               dev_ca.key_pem, hostnames=("localhost",),
                               bind="127.0.0.1") as running:
        yield running


def probe_broker(files, running, library, build_dir, **kwargs):
    """Connect to the test broker with `files` through `library`; the Outcome."""
    kwargs.setdefault("client_id", DEVICE_NAME)
    kwargs.setdefault("timeout_s", 5.0)
    return probe.run_probe(files, running.host, running.port, build_dir=build_dir,
                           library=library, **kwargs)


def explain(outcome):
    """Assertion message: everything the probe saw."""
    return f"{outcome.layer}: {outcome.detail} {outcome.fields} steps={outcome.steps}"

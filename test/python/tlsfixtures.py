"""Shared parts of the TLS tests: the Debian packages they need, a development PKI made at
test time, a real mosquitto broker on 127.0.0.1, and the data/ files the board would read.

`write_data_files` is the one place that produces data/: the plugin's real `prepare`.
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

from espaws.rig import broker, devpki, native, probe  # noqa: E402
from espaws.identity import provision, targets, writer  # noqa: E402

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

def write_data_files(data_dir, target, ca_pems, cert_pem, key_pem, key_format="pkcs8", validated=True):
    """Put the PEM files in a certs folder beside data_dir, let the plugin's real `prepare`
    write data/, and return probe.DataFiles.

    validated=False is for the negatives the plugin itself refuses (an expired certificate,
    a key that does not match): their files still come from the plugin's own encoder
    (targets.render), only without its checks, to show what the board's TLS stack does with them.
    """
    data_dir = Path(data_dir)
    certs = data_dir.parent / f"{data_dir.name}-certs"
    certs.mkdir(parents=True, exist_ok=True)
    (certs / "device-certificate.pem.crt").write_bytes(cert_pem)
    (certs / "device-private.pem.key").write_bytes(key_pem)
    for index, ca_pem in enumerate(ca_pems):
        (certs / f"ca-{index}.pem").write_bytes(ca_pem)
    if validated:
        job = provision.Job(project_dir=data_dir.parent, certs_dir=certs, data_dir=data_dir,
                            state_dir=data_dir.parent / ".state", target=target, settings={},
                            key_format=key_format)
        provision.prepare(job)
    else:
        anchors = [x509.load_pem_x509_certificate(pem) for pem in ca_pems]
        key = serialization.load_pem_private_key(key_pem, None)
        outputs = targets.render(target, x509.load_pem_x509_certificate(cert_pem), key, anchors, key_format)
        writer.sync_outputs(data_dir, outputs, data_dir.parent / ".state" / "manifest.json")
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

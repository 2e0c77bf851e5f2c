"""Build and run our two small C probe clients, on the boards' own TLS libraries.

bearssl_client loads data/ as the ESP8266 core does (DER files, BearSSL's
decoders); mbedtls_client as arduino-esp32 does (NUL-terminated PEM text). Both
print `STEP <layer> ok <detail>` lines and one final `RESULT {json}` line, which
`run_client` turns into an Outcome.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent
CFLAGS = ("-std=c11", "-O2", "-Wall", "-Wextra")


@dataclass(frozen=True)
class NativeClient:
    library: str
    sources: tuple
    libs: tuple
    header: str
    debian_package: str


CLIENTS = {
    "bearssl": NativeClient("bearssl", ("probe_common.c", "bearssl_client.c"), ("-lbearssl",),
                            "bearssl.h", "libbearssl-dev"),
    "mbedtls": NativeClient("mbedtls", ("probe_common.c", "mbedtls_client.c"),
                            ("-lmbedtls", "-lmbedx509", "-lmbedcrypto"), "mbedtls/ssl.h",
                            "libmbedtls-dev"),
}
LIBRARY_FOR_TARGET = {"esp8266": "bearssl", "esp32": "mbedtls"}


class NativeBuildError(Exception):
    """A client cannot be built here; the message says what to install."""


@dataclass(frozen=True)
class Outcome:
    """Where a connection attempt ended.

    layer: ok, dns, tcp, tls, mqtt-connack, mqtt-suback, closed-after-connect,
    closed-after-subscribe, closed-after-publish, timeout, input, mqtt-protocol, internal.
    fields holds the rest of the client's result (side, reason, alert, alert_name,
    code, stage).
    """
    layer: str
    detail: str
    library: str
    steps: tuple = ()          # (layer, detail) for every layer that succeeded, in order
    fields: dict = field(default_factory=dict)
    hint: str = ""             # one line of what to fix, filled in by the probe

    @property
    def ok(self):
        return self.layer == "ok"

    @property
    def side(self):
        return self.fields.get("side")

    @property
    def reason(self):
        return self.fields.get("reason")

    @property
    def alert(self):
        return self.fields.get("alert")


def source_digest(client, compiler="gcc"):
    """Hash of everything that goes into the binary: rebuild exactly when it changes."""
    digest = hashlib.sha256()
    for name in sorted(set(client.sources) | {"probe_common.h"}):
        digest.update(name.encode() + b"\0" + (SOURCE_DIR / name).read_bytes())
    digest.update(" ".join((compiler,) + CFLAGS + client.libs).encode())
    return digest.hexdigest()[:16]


def _missing_header(compiler, client):
    probe = subprocess.run([compiler, "-E", "-x", "c", "-"], input=f"#include <{client.header}>\n",
                           capture_output=True, text=True)
    return probe.returncode != 0


def build_client(library, build_dir):
    """Path of the client binary for `library`, compiled into build_dir when its sources changed."""
    client = CLIENTS[library]
    compiler = shutil.which("gcc")
    if not compiler:
        if os.name == "nt":  # the usual case on Windows: the Python client stands in
            raise NativeBuildError("no C compiler (gcc) on PATH")
        raise NativeBuildError("gcc is not installed: apt-get install gcc "
                               f"{client.debian_package}")
    build_dir = Path(build_dir)
    binary = build_dir / f"{library}_client-{source_digest(client)}"
    if binary.exists():
        return binary
    if _missing_header(compiler, client):
        raise NativeBuildError(f"<{client.header}> is missing: apt-get install "
                               f"{client.debian_package}")
    build_dir.mkdir(parents=True, exist_ok=True)
    # Compile to a temporary name, then rename: parallel builds never see half a binary.
    fd, tmp = tempfile.mkstemp(prefix=f".{library}_client-", dir=build_dir)
    os.close(fd)
    command = [compiler, *CFLAGS, "-o", tmp, *(str(SOURCE_DIR / s) for s in client.sources),
               *client.libs]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        os.unlink(tmp)
        hint = (f" (apt-get install {client.debian_package})"
                if "cannot find -l" in done.stderr else "")
        raise NativeBuildError(f"building the {library} client failed{hint}:\n{done.stderr}")
    os.replace(tmp, binary)
    return binary


def client_command(binary, *, host, port, ca_files, cert, key, servername=None,
                   client_id="aws-iot-probe", topic="aws-iot-probe/echo", payload="probe",
                   timeout_s=10.0):
    command = [str(binary), "--host", host, "--port", str(port),
               "--servername", servername or host]
    for ca in ca_files:
        command += ["--ca", str(ca)]
    return command + ["--cert", str(cert), "--key", str(key), "--client-id", client_id,
                      "--topic", topic, "--payload", payload,
                      "--timeout-ms", str(int(timeout_s * 1000))]


def parse_output(stdout, library):
    """Outcome from the client's STEP / RESULT lines."""
    steps, result = [], None
    for line in stdout.splitlines():
        if line.startswith("STEP "):
            name, _, detail = line[5:].partition(" ok ")
            steps.append((name, detail))
        elif line.startswith("RESULT "):
            result = json.loads(line[7:])
    if result is None:
        return Outcome("internal", f"the {library} client printed no result", library,
                       tuple(steps))
    layer, detail = result.pop("layer"), result.pop("detail", "")
    result.pop("library", None)
    return Outcome(layer, detail, library, tuple(steps), result)


def run_client(binary, library, *, timeout_s=10.0, **connection):
    """Run a built client; connection holds host, port, ca_files, cert, key and the MQTT names."""
    command = client_command(binary, timeout_s=timeout_s, **connection)
    # Each step inside the client is bounded by timeout_s; this outer bound also
    # covers name resolution, which the C library cannot bound.
    budget = 6 * timeout_s + 5
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=budget)
    except subprocess.TimeoutExpired as expired:
        partial = expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout
        steps = parse_output(partial or "", library).steps
        stage = "dns" if not steps else f"after {steps[-1][0]}"
        return Outcome("timeout", f"the {library} client did not finish within {budget:.0f} s",
                       library, steps, {"stage": stage})
    if done.returncode == 2:
        raise ValueError(f"{library} client usage error: {done.stderr.strip()}")
    return parse_output(done.stdout, library)


def default_build_dir(project_dir):
    return Path(project_dir) / ".pio" / "aws_iot" / "native"

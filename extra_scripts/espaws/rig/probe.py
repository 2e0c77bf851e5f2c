"""Connect from this PC with exactly the files the board reads, and name the layer that fails.

The files in data/ go through the board's own TLS library where it builds here
(BearSSL for esp8266, mbedTLS for esp32), else through Python's ssl, then an
MQTT CONNECT, SUBSCRIBE and PUBLISH as the thing, which is what AWS IoT's policy
judges. The result says which layer failed and one line of what to fix.
"""

import dataclasses
import os
import sys
from pathlib import Path

from ..identity import endpoint as endpoint_module
from . import native
from ..identity import targets
from .native import python_client

DEFAULT_CLIENT_ID = "aws-iot-probe"
DEFAULT_TIMEOUT_S = 10.0
LIBRARY_LABELS = {
    "bearssl": "BearSSL (the ESP8266's TLS library)",
    "mbedtls": "mbedTLS (the ESP32's TLS library)",
    "python-ssl": "Python's ssl (OpenSSL, not the board's library)",
}


class ProbeSetupError(Exception):
    """The probe cannot start (no endpoint, no files); the message says what to do."""


@dataclasses.dataclass(frozen=True)
class DataFiles:
    target: str
    ca_files: tuple
    cert: Path
    key: Path


def data_files(data_dir, target=None):
    """The files the board reads for `target` (detected from data/ when None)."""
    data_dir = Path(data_dir)
    target = target or _detect_target(data_dir)
    if target == "esp8266":
        # As the board reads them: ca.der, then ca_2.der, ... until one is missing.
        anchors = [data_dir / targets.anchor_name(0)]
        for index in range(1, targets.MAX_ANCHORS):
            path = data_dir / targets.anchor_name(index)
            if not path.exists():
                break
            anchors.append(path)
        files = DataFiles(target, tuple(anchors), data_dir / "cert.der", data_dir / "private.der")
    elif target == "esp32":
        files = DataFiles(target, (data_dir / "ca.pem",), data_dir / "cert.pem",
                          data_dir / "private.pem")
    else:
        raise ProbeSetupError(f"unknown target {target!r}: use esp8266 or esp32")
    missing = [str(p) for p in (files.ca_files[0], files.cert, files.key) if not p.exists()]
    if missing:
        raise ProbeSetupError(f"{', '.join(missing)} missing: run `python3 extra_scripts/aws_iot.py "
                              f"prepare --target {target}` first")
    return files


def _detect_target(data_dir):
    found = [t for t, name in (("esp8266", "cert.der"), ("esp32", "cert.pem"))
             if (data_dir / name).exists()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ProbeSetupError(f"{data_dir} holds neither cert.der nor cert.pem: run "
                              "`python3 extra_scripts/aws_iot.py prepare` first")
    raise ProbeSetupError(f"{data_dir} holds files for esp8266 and esp32: pass --target")


def choose_client(target, build_dir, library=None):
    """(library, binary or None, note): the board's library when its client builds here."""
    library = library or native.LIBRARY_FOR_TARGET[target]
    if library == python_client.LIBRARY:
        return library, None, ""
    try:
        return library, native.build_client(library, build_dir), ""
    except native.NativeBuildError as error:
        return python_client.LIBRARY, None, f"{library} client unavailable ({error}); "


def run_probe(files, host, port, *, client_id=DEFAULT_CLIENT_ID, topic=None, servername=None,
              timeout_s=DEFAULT_TIMEOUT_S, build_dir, library=None):
    """Outcome of one connection with `files`; hint filled in."""
    library, binary, note = choose_client(files.target, build_dir, library)
    connection = dict(host=host, port=port, ca_files=files.ca_files, cert=files.cert,
                      key=files.key, servername=servername or host, client_id=client_id,
                      topic=topic or default_topic(client_id), payload="aws-iot-probe",
                      timeout_s=timeout_s)
    if binary:
        outcome = native.run_client(binary, library, **connection)
    else:
        outcome = python_client.run(**connection)
    hint = hint_for(outcome, host, port, client_id, connection["topic"])
    return dataclasses.replace(outcome, hint=(note + hint) if not outcome.ok else note.rstrip("; "))


def probe(project_dir, target=None, endpoint=None, *, client_id=None, topic=None,
          timeout_s=DEFAULT_TIMEOUT_S, build_dir=None, library=None, data_dir=None, environ=None):
    """Probe the endpoint (default AWS_IOT_ENDPOINT) with the project's data/ files: an Outcome.

    Outcome.layer is "ok" or the failing layer; .library the TLS library used;
    .hint one line of what to fix. Raises ProbeSetupError when it cannot start.
    """
    project_dir = Path(project_dir)
    settings = _settings(project_dir, os.environ if environ is None else environ)
    parsed = resolve_endpoint(endpoint or settings.get("AWS_IOT_ENDPOINT"))
    data_dir = Path(data_dir or project_dir / "data")
    files = data_files(data_dir, target)
    return run_probe(files, parsed.host, parsed.port,
                     client_id=client_id or default_client_id(data_dir, settings),
                     topic=topic, timeout_s=timeout_s,
                     build_dir=build_dir or native.default_build_dir(project_dir), library=library)


def default_client_id(data_dir, settings):
    """As the device chooses: the image's thing.txt, else AWS_IOT_THING_NAME, else a fixed id."""
    from ..identity import thing
    try:
        name, problem = thing.from_file((Path(data_dir) / thing.FILE_NAME).read_bytes())
    except OSError:
        name, problem = None, "absent"
    return (name if not problem else None) or settings.get("AWS_IOT_THING_NAME") or DEFAULT_CLIENT_ID


def resolve_endpoint(text):
    if not text:
        raise ProbeSetupError("no endpoint: set AWS_IOT_ENDPOINT (host or host:port) or pass "
                              "--endpoint")
    try:
        return endpoint_module.parse(text)
    except ValueError as error:
        raise ProbeSetupError(str(error))


def _settings(project_dir, environ):
    from ..settings import secrets
    try:
        return secrets.read_settings(str(project_dir), environ)
    except ImportError:  # python-dotenv missing: the process environment alone
        return {k: v for k, v in environ.items() if k.startswith("AWS_IOT_")}


def default_topic(client_id):
    # Under the device's own topics: the policy `register` writes allows it (aws/policy.py).
    return f"devices/{client_id}/probe"


# ---- what to fix, per layer ----

SERVER_ALERT_HINTS = {
    42: "the server rejected the device certificate: is it valid yet (this PC's clock, its "
        "not-before date)?",
    44: "the device certificate is revoked or inactive: activate it in AWS IoT (Security, "
        "Certificates)",
    45: "the device certificate has expired or is not yet valid: issue a new one",
    48: "the server does not know the device certificate's CA: on AWS register and activate the "
        "certificate (or register your CA); for the local broker issue it from the development CA "
        "(dev-certs) and run prepare again",
    51: "the private key does not match the device certificate: put the matching key in certs/ "
        "and run prepare again",
}


def hint_for(outcome, host, port, client_id, topic):
    """One line of what to fix for a failed Outcome ("" when it succeeded)."""
    layer, fields = outcome.layer, outcome.fields
    if layer == "ok":
        return ""
    if layer == "input":
        return "fix the files in data/ (run prepare again with the right certs/): " + outcome.detail
    if layer == "dns":
        return (f"{host} does not resolve: check AWS_IOT_ENDPOINT (AWS IoT console, Settings, "
                "Device data endpoint) or, for the local broker, the PC's name, and this PC's DNS")
    if layer == "tcp":
        return (f"nothing accepts connections on {host} port {port}: start the broker "
                "(aws_iot.py broker), check the port (8883), or a firewall on the way")
    if layer == "tls":
        return _tls_hint(outcome, host)
    if layer == "timeout":
        return _timeout_hint(fields.get("stage", ""), host, port, topic)
    if layer == "mqtt-connack":
        return (f"the broker refused CONNECT ({outcome.detail}): check that the policy allows "
                f"iot:Connect for client id {client_id}")
    if layer == "closed-after-connect":
        return ("the broker closed the connection after CONNECT: on AWS the certificate is not "
                f"active, has no policy attached, or the policy does not allow iot:Connect for "
                f"client id {client_id} (another connection with the same id also drops this one)")
    if layer in ("mqtt-suback", "closed-after-subscribe"):
        return (f"the broker refused the subscription: allow iot:Subscribe on topicfilter/{topic} "
                f"and iot:Receive on topic/{topic} in the thing's policy (or the broker's ACL)")
    if layer == "closed-after-publish":
        return (f"the broker closed the connection after PUBLISH: allow iot:Publish on "
                f"topic/{topic} in the thing's policy")
    return f"unexpected failure ({layer}): {outcome.detail}"


def _tls_hint(outcome, host):
    side, reason, alert = outcome.side, outcome.reason, outcome.alert
    if side == "client-verify":
        if reason == "unknown-ca":
            return ("the server's certificate does not chain to data/ca.*: for AWS use Amazon Root "
                    "CA 1 and 3 (leave the CA out of certs/ and the plugin adds them), for the "
                    "local broker the development CA (dev-certs/dev-ca.pem)")
        if reason in ("expired", "not-yet-valid"):
            return ("the server's certificate is outside its validity period, or this PC's clock "
                    "is wrong (the board needs a set clock too: NTP before connecting)")
        if reason == "name-mismatch":
            return (f"the server's certificate does not name {host}: use the endpoint's exact DNS "
                    "name (for the local broker pass --hostname with the name the board uses)")
        return "we could not verify the server's certificate: " + outcome.detail
    if side == "server-alert":
        return SERVER_ALERT_HINTS.get(alert, "the server refused the handshake: check that the "
                                             "device certificate is registered and active and "
                                             "that the key matches it")
    if side == "closed":
        return ("the server dropped the handshake: check that the device certificate is registered "
                "and active and that the key matches it")
    return "the TLS handshake failed on our side: " + outcome.detail


def _timeout_hint(stage, host, port, topic):
    if stage == "tcp-connect":
        return f"no answer from {host} port {port}: a firewall drops the port or the host is down"
    if stage == "tls-handshake":
        return f"{host} port {port} does not complete a TLS handshake: is it the MQTT TLS port?"
    if stage == "echo":
        return (f"PUBLISH on {topic} never came back: the policy may deny iot:Publish or "
                "iot:Receive on it (the broker drops it silently)")
    return f"the broker stopped answering ({stage or 'unknown stage'})"


# ---- the CLI verb `probe` ----

def describe(outcome, files, host, port):
    """The report lines: what was used, each layer's outcome, and on failure what to fix."""
    used = ", ".join(str(p) for p in (*files.ca_files, files.cert, files.key))
    lines = [f"probe: {files.target} files {used}",
             f"through {LIBRARY_LABELS.get(outcome.library, outcome.library)} to {host}:{port}"]
    lines += [f"  {name:<16} ok      {detail}" for name, detail in outcome.steps]
    if outcome.ok:
        lines.append(f"  {'round trip':<16} ok      {outcome.detail}")
    else:
        lines.append(f"  {outcome.layer:<16} FAILED  {outcome.detail}")
        lines.append(f"fix: {outcome.hint}")
    if outcome.ok and outcome.hint:
        lines.append(f"note: {outcome.hint}")
    return lines


def add_arguments(parser):
    parser.add_argument("--project-dir", default=".", help="PlatformIO project folder (default: .)")
    parser.add_argument("--target", choices=targets.TARGETS,
                        help="which board's files and TLS library (default: what data/ holds)")
    parser.add_argument("--data-dir", help="folder with the board's files (default: <project>/data)")
    parser.add_argument("--endpoint", help="host or host:port (default: AWS_IOT_ENDPOINT, port 8883)")
    parser.add_argument("--client-id", help="MQTT client id (default: data/thing.txt, else AWS_IOT_THING_NAME)")
    parser.add_argument("--topic", help="topic to subscribe and publish to (default: devices/<client id>/probe)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help="seconds allowed for each step (default 10)")
    return parser


def main(args):
    """0 when the round trip works, 1 when a layer fails or the probe cannot start."""
    project_dir = Path(args.project_dir)
    settings = _settings(project_dir, os.environ)
    try:
        parsed = resolve_endpoint(args.endpoint or settings.get("AWS_IOT_ENDPOINT"))
        data_dir = project_dir / (args.data_dir or "data")
        files = data_files(data_dir, args.target)
    except ProbeSetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    outcome = run_probe(files, parsed.host, parsed.port,
                        client_id=args.client_id or default_client_id(data_dir, settings),
                        topic=args.topic, timeout_s=args.timeout,
                        build_dir=native.default_build_dir(project_dir))
    for line in describe(outcome, files, parsed.host, parsed.port):
        print(line)
    return 0 if outcome.ok else 1

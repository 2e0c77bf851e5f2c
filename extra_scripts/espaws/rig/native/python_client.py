"""The probe's fallback client on Python's ssl, for when neither C client builds here.

It speaks the same minimal MQTT 3.1.1 and reports the same layers as the C
clients, but through OpenSSL: it proves the files and the server, not the
board's TLS library.
"""

import os
import socket
import ssl
import struct
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from . import Outcome

LIBRARY = "python-ssl"

# OpenSSL reason strings for alerts the server sent, with their TLS numbers.
ALERTS_BY_REASON = {
    "UNEXPECTED_MESSAGE": (10, "unexpected_message"), "BAD_RECORD_MAC": (20, "bad_record_mac"),
    "HANDSHAKE_FAILURE": (40, "handshake_failure"), "BAD_CERTIFICATE": (42, "bad_certificate"),
    "UNSUPPORTED_CERTIFICATE": (43, "unsupported_certificate"),
    "CERTIFICATE_REVOKED": (44, "certificate_revoked"),
    "CERTIFICATE_EXPIRED": (45, "certificate_expired"),
    "CERTIFICATE_UNKNOWN": (46, "certificate_unknown"),
    "ILLEGAL_PARAMETER": (47, "illegal_parameter"), "UNKNOWN_CA": (48, "unknown_ca"),
    "ACCESS_DENIED": (49, "access_denied"), "DECODE_ERROR": (50, "decode_error"),
    "DECRYPT_ERROR": (51, "decrypt_error"), "PROTOCOL_VERSION": (70, "protocol_version"),
    "INSUFFICIENT_SECURITY": (71, "insufficient_security"),
    "INTERNAL_ERROR": (80, "internal_error"), "CERTIFICATE_REQUIRED": (116, "certificate_required"),
}
# OpenSSL X509_V_ERR codes -> our reasons.
VERIFY_REASONS = {2: "unknown-ca", 18: "unknown-ca", 19: "unknown-ca", 20: "unknown-ca",
                  21: "unknown-ca", 9: "not-yet-valid", 10: "expired", 62: "name-mismatch"}
CONNACK_MEANINGS = {1: "unacceptable protocol version", 2: "client identifier rejected",
                    3: "server unavailable", 4: "bad user name or password", 5: "not authorized"}


class _Stop(Exception):
    """Ends the run at a layer; carries the Outcome fields."""

    def __init__(self, layer, detail, **fields):
        super().__init__(detail)
        self.layer, self.detail, self.fields = layer, detail, fields


def _to_pem_file(path, folder):
    """Python's ssl reads PEM only: convert a DER file (the esp8266 layout) to a PEM copy."""
    data = Path(path).read_bytes()
    if b"-----BEGIN" in data:
        return str(path)
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    try:
        pem = x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.PEM)
    except ValueError:
        key = serialization.load_der_private_key(data, None)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    target = Path(folder) / (Path(path).name + ".pem")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return str(target)


@contextmanager
def _pem_files(ca_files, cert, key):
    with tempfile.TemporaryDirectory(prefix="aws-iot-probe-") as folder:
        yield ([_to_pem_file(ca, folder) for ca in ca_files], _to_pem_file(cert, folder),
               _to_pem_file(key, folder))


def _context(ca_files, cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        for ca in ca_files:
            context.load_verify_locations(cafile=ca)
        context.load_cert_chain(cert, key)
    except ssl.SSLError as error:
        if error.reason == "KEY_VALUES_MISMATCH":
            raise _Stop("input", "the private key does not match the device certificate")
        raise _Stop("input", f"Python's ssl cannot load the files: {error}")
    except (OSError, ValueError) as error:
        raise _Stop("input", f"Python's ssl cannot load the files: {error}")
    return context


def _connect_tcp(host, port, timeout_s, steps):
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise _Stop("dns", f"cannot resolve {host}: {error.strerror}", code=error.errno)
    steps.append(("dns", f"{host} -> {infos[0][4][0]}"))
    last = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout_s)
        try:
            sock.connect(address)
            steps.append(("tcp", f"connected to {address[0]} port {port}"))
            return sock
        except socket.timeout:
            sock.close()
            raise _Stop("timeout", f"no TCP answer from {host} port {port} within {timeout_s} s",
                        stage="tcp-connect")
        except OSError as error:
            sock.close()
            last = error
    raise _Stop("tcp", f"cannot connect to {host} port {port}: {last.strerror}", code=last.errno)


def _handshake(sock, context, servername, steps):
    try:
        tls = context.wrap_socket(sock, server_hostname=servername)
    except ssl.SSLCertVerificationError as error:
        raise _Stop("tls", f"we refused the server's certificate for {servername}: "
                           f"{error.verify_message}", side="client-verify",
                    reason=VERIFY_REASONS.get(error.verify_code, "other"), code=error.verify_code)
    except ssl.SSLError as error:
        raise _tls_error(error)
    except socket.timeout:
        raise _Stop("timeout", "TLS handshake did not finish in time", stage="tls-handshake")
    except OSError:
        raise _Stop("tls", "the server closed the connection during the handshake", side="closed")
    steps.append(("tls", f"{tls.version()} handshake done, {tls.cipher()[0]}, "
                         f"server name {servername}"))
    return tls


def _tls_error(error):
    reason = error.reason or ""
    for name, (number, alert_name) in ALERTS_BY_REASON.items():
        if "ALERT" in reason and reason.endswith(name):
            return _Stop("tls", f"the server refused the handshake: it sent alert {number} "
                                f"({alert_name})", side="server-alert", alert=number,
                         alert_name=alert_name)
    if isinstance(error, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return _Stop("tls", "the server closed the connection during the handshake", side="closed")
    return _Stop("tls", f"handshake error: {error}", side="client-error")


# ---- MQTT 3.1.1 ----

def _string(text):
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def _packet(first, body):
    length, encoded = len(body), bytearray()
    while True:
        digit, length = length % 128, length // 128
        encoded.append(digit | (0x80 if length else 0))
        if not length:
            return bytes([first]) + bytes(encoded) + body


def _read_exact(tls, count, deadline):
    data = b""
    while len(data) < count:
        tls.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = tls.recv(count - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _read_packet(tls, deadline):
    first = _read_exact(tls, 1, deadline)[0]
    length, shift = 0, 0
    while True:
        byte = _read_exact(tls, 1, deadline)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return first >> 4, first & 0x0F, _read_exact(tls, length, deadline) if length else b""


def _exchange(tls, packet, wanted_type, timeout_s, closed_layer, awaited, stage):
    """Send a packet and read until one of wanted_type arrives; map failures to layers."""
    deadline = time.monotonic() + timeout_s
    try:
        if packet:
            tls.sendall(packet)
        while True:
            kind, flags, body = _read_packet(tls, deadline)
            if kind == wanted_type:
                return flags, body
    except (socket.timeout, TimeoutError):
        raise _Stop("timeout", f"no answer within {timeout_s} s while waiting for {awaited}",
                    stage=stage)
    except (ConnectionError, ssl.SSLError, OSError) as error:
        why = "" if str(error) == "closed" else f": {error}"
        raise _Stop(closed_layer, f"the server closed the connection while we waited for "
                                  f"{awaited}{why}")


def _mqtt_round_trip(tls, client_id, topic, payload, timeout_s, steps):
    connect = _packet(0x10, _string("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60)
                      + _string(client_id))
    _, body = _exchange(tls, connect, 2, timeout_s, "closed-after-connect", "CONNACK", "connack")
    if len(body) != 2 or body[1] != 0:
        code = body[1] if len(body) == 2 else -1
        raise _Stop("mqtt-connack", f"CONNACK return code {code}: "
                                    f"{CONNACK_MEANINGS.get(code, 'unknown return code')}", code=code)
    steps.append(("mqtt-connect", f"CONNACK accepted, client id {client_id}"))
    subscribe = _packet(0x82, struct.pack("!H", 1) + _string(topic) + b"\0")
    _, body = _exchange(tls, subscribe, 9, timeout_s, "closed-after-subscribe", "SUBACK", "suback")
    if len(body) < 3 or body[2] == 0x80:
        raise _Stop("mqtt-suback", f"the broker refused the subscription to {topic} (SUBACK 0x80)",
                    code=0x80)
    steps.append(("mqtt-subscribe", f"SUBACK granted QoS {body[2]} on {topic}"))
    expected = _string(topic) + payload.encode()
    packet = _packet(0x30, expected)
    while True:
        flags, body = _exchange(tls, packet, 3, timeout_s, "closed-after-publish",
                                "our PUBLISH to come back", "echo")
        packet = None
        if not flags & 0x06 and body == expected:
            break
    steps.append(("mqtt-publish", f"PUBLISH to {topic} came back ({len(payload)} bytes)"))
    tls.sendall(_packet(0xE0, b""))


def run(*, host, port, ca_files, cert, key, servername=None, client_id="aws-iot-probe",
        topic="aws-iot-probe/echo", payload="probe", timeout_s=10.0):
    """The same round trip as the C clients, through Python's ssl; an Outcome."""
    steps = []
    servername = servername or host
    try:
        with _pem_files(ca_files, cert, key) as (cas, cert_pem, key_pem):
            context = _context(cas, cert_pem, key_pem)
        sock = _connect_tcp(host, port, timeout_s, steps)
        try:
            with _handshake(sock, context, servername, steps) as tls:
                _mqtt_round_trip(tls, client_id, topic, payload, timeout_s, steps)
        finally:
            sock.close()
    except _Stop as stop:
        return Outcome(stop.layer, stop.detail, LIBRARY, tuple(steps), stop.fields)
    return Outcome("ok", f"CONNECT, SUBSCRIBE and PUBLISH round trip on {topic}", LIBRARY,
                   tuple(steps))

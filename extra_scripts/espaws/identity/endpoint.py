"""AWS_IOT_ENDPOINT: `host` or `host:port`, and what kind of host it is."""

import re
from dataclasses import dataclass

DEFAULT_PORT = 8883

_ATS = re.compile(r"^[a-z0-9]+-ats\.iot\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com(\.cn)?$")
_LEGACY = re.compile(r"^[a-z0-9]+\.iot\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com(\.cn)?$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    kind: str  # "aws-ats", "aws-legacy" or "other" (a local or custom broker)


def parse(text):
    """Parse `host[:port]`; raise ValueError with a one-line reason (no secrets here)."""
    text = text.strip()
    if "://" in text or "/" in text:
        raise ValueError(
            "AWS_IOT_ENDPOINT must be a host name, optionally host:port, without a scheme or "
            "path (e.g. abc123-ats.iot.eu-west-1.amazonaws.com)")
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port = text, DEFAULT_PORT
    else:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"AWS_IOT_ENDPOINT has an invalid port {port_text!r}: use host or host:port "
                             "with a port from 1 to 65535")
        port = int(port_text)
    host = host.lower().rstrip(".")
    if not host or not all(_HOST_LABEL.match(label) for label in host.split(".")):
        raise ValueError(f"AWS_IOT_ENDPOINT host {host!r} is not a valid host name")
    return Endpoint(host, port, _kind(host))


def _kind(host):
    if _ATS.match(host):
        return "aws-ats"
    if _LEGACY.match(host):
        return "aws-legacy"
    return "other"


def shape_findings(endpoint):
    """(warnings, errors) about the endpoint's shape alone."""
    if endpoint.kind == "aws-legacy":
        return ([f"AWS_IOT_ENDPOINT {endpoint.host} is a legacy endpoint (no -ats) whose certificate "
                 "chains to a VeriSign root: use the ATS endpoint from "
                 "`aws iot describe-endpoint --endpoint-type iot:Data-ATS`"], [])
    if endpoint.kind == "other" and endpoint.host.endswith(".amazonaws.com"):
        return ([], [f"AWS_IOT_ENDPOINT {endpoint.host} does not look like an AWS IoT data endpoint "
                     "(<prefix>-ats.iot.<region>.amazonaws.com): copy it from the AWS IoT console, Settings"])
    if endpoint.kind != "other" and endpoint.port not in (8883,):
        return ([f"AWS_IOT_ENDPOINT uses port {endpoint.port}: the boards speak MQTT over TLS on 8883 "
                 "(443 needs ALPN, which the ESP8266 core lacks)"], [])
    return ([], [])

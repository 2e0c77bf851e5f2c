"""End to end: what must fail does fail, and at the right layer, seen by the board's library.

Each case writes data/ as the plugin would, connects to a real mosquitto (or a
closed port, or a name that cannot resolve) and checks the layer the probe names.
"""

import pytest

from espaws.rig import broker, native
from tlsfixtures import (DEVICE_NAME, days_from_now, dev_ca, explain,  # noqa: F401
                         native_build_dir, new_authority, probe_broker, require_library,
                         require_mosquitto, running_broker, write_data_files)

CLIENTS = [("esp8266", "bearssl"), ("esp32", "mbedtls"), ("esp32", "python-ssl")]
BOARD_CLIENTS = CLIENTS[:2]


def _skip_unless_built(library):
    if library != "python-ssl":
        require_library(library)


def _probe(tmp_path, running, build_dir, target, library, cas, cert, key, **kwargs):
    _skip_unless_built(library)
    files = write_data_files(tmp_path / "data", target, cas, cert, key, validated=False)
    outcome = probe_broker(files, running, library, build_dir, **kwargs)
    assert outcome.library == library
    return outcome


@pytest.mark.parametrize("target,library", CLIENTS)
def test_device_certificate_from_another_ca_is_refused_by_the_server(
        tmp_path, dev_ca, running_broker, native_build_dir, target, library):
    cert, key = new_authority("ec", "some other CA").device("ec")
    outcome = _probe(tmp_path, running_broker, native_build_dir, target, library,
                     [dev_ca.cert_pem], cert, key)
    assert (outcome.layer, outcome.side, outcome.alert) == ("tls", "server-alert", 48), \
        explain(outcome)
    assert "unknown_ca" in outcome.detail and "CA" in outcome.hint


@pytest.mark.parametrize("target,library", CLIENTS)
def test_expired_device_certificate_is_refused_by_the_server(
        tmp_path, dev_ca, running_broker, native_build_dir, target, library):
    cert, key = dev_ca.device("ec", not_before=days_from_now(-60), not_after=days_from_now(-1))
    outcome = _probe(tmp_path, running_broker, native_build_dir, target, library,
                     [dev_ca.cert_pem], cert, key)
    assert (outcome.layer, outcome.side, outcome.alert) == ("tls", "server-alert", 45), \
        explain(outcome)
    assert "expired" in outcome.hint


@pytest.mark.parametrize("target,library", BOARD_CLIENTS)
def test_not_yet_valid_device_certificate_is_refused_by_the_server(
        tmp_path, dev_ca, running_broker, native_build_dir, target, library):
    cert, key = dev_ca.device("ec", not_before=days_from_now(3), not_after=days_from_now(30))
    outcome = _probe(tmp_path, running_broker, native_build_dir, target, library,
                     [dev_ca.cert_pem], cert, key)
    assert (outcome.layer, outcome.side) == ("tls", "server-alert"), explain(outcome)


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
@pytest.mark.parametrize("target,library", BOARD_CLIENTS)
def test_key_that_does_not_match_the_certificate_is_refused_by_the_server(
        tmp_path, dev_ca, running_broker, native_build_dir, target, library, key_type):
    # The boards do not compare key and certificate: the server's signature check catches it.
    cert, _ = dev_ca.device(key_type)
    _, other_key = dev_ca.device(key_type)
    outcome = _probe(tmp_path, running_broker, native_build_dir, target, library,
                     [dev_ca.cert_pem], cert, other_key)
    assert (outcome.layer, outcome.side, outcome.alert) == ("tls", "server-alert", 51), \
        explain(outcome)
    assert "does not match" in outcome.hint


def test_key_mismatch_through_python_ssl_is_caught_before_connecting(
        tmp_path, dev_ca, running_broker, native_build_dir):
    cert, _ = dev_ca.device("ec")
    _, other_key = dev_ca.device("ec")
    outcome = _probe(tmp_path, running_broker, native_build_dir, "esp32", "python-ssl",
                     [dev_ca.cert_pem], cert, other_key)
    assert outcome.layer == "input" and "does not match" in outcome.detail, explain(outcome)


@pytest.mark.parametrize("target,library", CLIENTS)
def test_wrong_ca_on_the_client_side_is_refused_by_us(
        tmp_path, dev_ca, running_broker, native_build_dir, target, library):
    cert, key = dev_ca.device("ec")
    outcome = _probe(tmp_path, running_broker, native_build_dir, target, library,
                     [new_authority("ec", "not the broker's CA").cert_pem], cert, key)
    assert (outcome.layer, outcome.side, outcome.reason) == ("tls", "client-verify",
                                                             "unknown-ca"), explain(outcome)
    assert "Amazon Root CA" in outcome.hint


@pytest.mark.parametrize("target,library", CLIENTS)
def test_server_name_not_in_the_certificate_is_refused_by_us(
        tmp_path, dev_ca, running_broker, native_build_dir, target, library):
    cert, key = dev_ca.device("ec")
    outcome = _probe(tmp_path, running_broker, native_build_dir, target, library,
                     [dev_ca.cert_pem], cert, key, servername="not-the-broker.test")
    assert (outcome.layer, outcome.side, outcome.reason) == ("tls", "client-verify",
                                                             "name-mismatch"), explain(outcome)


# ---- the broker refuses at the MQTT layer ----

@pytest.fixture(scope="module")
def strict_broker(tmp_path_factory, dev_ca):
    """A broker that, like an AWS IoT policy, allows one topic and drops oversized packets.

    max_packet_size makes mosquitto close the connection, as AWS IoT does on a
    policy violation; the ACL makes it answer SUBACK 0x80 for other topics.
    """
    require_mosquitto()
    acl = f"user {DEVICE_NAME}\ntopic readwrite allowed/#\n"
    with broker.running_broker(tmp_path_factory.mktemp("strict-broker"), dev_ca.cert_pem,
                               dev_ca.key_pem, acl_text=acl,
                               extra_lines=["max_packet_size 200"]) as running:
        yield running


@pytest.mark.parametrize("target,library", CLIENTS)
def test_topic_denied_by_the_broker_acl(tmp_path, dev_ca, strict_broker, native_build_dir,
                                        target, library):
    # mosquitto 2.0 grants a denied 3.1.1 subscription and then drops the messages
    # silently: the probe sees its PUBLISH never come back, and says so.
    cert, key = dev_ca.device("ec", common_name=DEVICE_NAME)
    outcome = _probe(tmp_path, strict_broker, native_build_dir, target, library,
                     [dev_ca.cert_pem], cert, key, topic="forbidden/topic", timeout_s=1.5)
    assert (outcome.layer, outcome.fields.get("stage")) == ("timeout", "echo"), explain(outcome)
    assert "iot:Receive" in outcome.hint
    allowed = probe_broker(outcome_files(tmp_path, target), strict_broker, library,
                           native_build_dir, topic="allowed/topic")
    assert allowed.ok, explain(allowed)


def outcome_files(tmp_path, target):
    from espaws.rig import probe
    return probe.data_files(tmp_path / "data", target)


@pytest.mark.parametrize("target,library", BOARD_CLIENTS)
def test_connection_closed_after_subscribe(tmp_path, dev_ca, strict_broker, native_build_dir,
                                           target, library):
    cert, key = dev_ca.device("ec", common_name=DEVICE_NAME)
    outcome = _probe(tmp_path, strict_broker, native_build_dir, target, library,
                     [dev_ca.cert_pem], cert, key, topic="allowed/" + "x" * 250)
    assert outcome.layer == "closed-after-subscribe", explain(outcome)
    assert [name for name, _ in outcome.steps][-1] == "mqtt-connect"


@pytest.mark.parametrize("target,library", BOARD_CLIENTS)
def test_connection_closed_after_publish(tmp_path, dev_ca, strict_broker, native_build_dir,
                                         target, library):
    require_library(library)
    cert, key = dev_ca.device("ec", common_name=DEVICE_NAME)
    files = write_data_files(tmp_path / "data", target, [dev_ca.cert_pem], cert, key)
    binary = native.build_client(library, native_build_dir)
    outcome = native.run_client(binary, library, host=strict_broker.host,
                                port=strict_broker.port, ca_files=files.ca_files, cert=files.cert,
                                key=files.key, client_id=DEVICE_NAME, topic="allowed/echo",
                                payload="p" * 400, timeout_s=5)
    assert outcome.layer == "closed-after-publish", explain(outcome)
    assert [name for name, _ in outcome.steps][-1] == "mqtt-subscribe"


# ---- before TLS: name resolution and TCP ----

@pytest.mark.parametrize("target,library", CLIENTS)
def test_name_that_does_not_resolve(tmp_path, dev_ca, native_build_dir, target, library):
    _skip_unless_built(library)
    cert, key = dev_ca.device("ec")
    files = write_data_files(tmp_path / "data", target, [dev_ca.cert_pem], cert, key)
    from espaws.rig import probe
    outcome = probe.run_probe(files, "no-such-broker.invalid", 8883, build_dir=native_build_dir,
                              library=library, timeout_s=5)
    assert outcome.layer == "dns", explain(outcome)
    assert "AWS_IOT_ENDPOINT" in outcome.hint


@pytest.mark.parametrize("target,library", CLIENTS)
def test_closed_port_is_a_tcp_failure(tmp_path, dev_ca, native_build_dir, target, library):
    _skip_unless_built(library)
    cert, key = dev_ca.device("ec")
    files = write_data_files(tmp_path / "data", target, [dev_ca.cert_pem], cert, key)
    from espaws.rig import probe
    port = broker.free_port()  # nothing listens there once the probing socket is closed
    outcome = probe.run_probe(files, "127.0.0.1", port, build_dir=native_build_dir,
                              library=library, timeout_s=5)
    assert outcome.layer == "tcp", explain(outcome)
    assert [name for name, _ in outcome.steps] == ["dns"]

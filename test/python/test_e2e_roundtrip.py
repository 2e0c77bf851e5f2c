"""End to end: data/ files through the board's own TLS library to a real mosquitto, and back.

BearSSL reads the esp8266 files (DER), mbedTLS the esp32 files (PEM), for RSA-2048
and EC P-256 device keys in every key encoding the plugin may write.
"""

import pytest

from tlsfixtures import (DEVICE_NAME, dev_ca, explain, native_build_dir,  # noqa: F401
                         probe_broker, require_library, running_broker, write_data_files)

BOARD_LIBRARY = {"esp8266": "bearssl", "esp32": "mbedtls"}


@pytest.mark.parametrize("key_format", ["pkcs8", "traditional"])
@pytest.mark.parametrize("key_type", ["ec", "rsa"])
@pytest.mark.parametrize("target", ["esp8266", "esp32"])
def test_round_trip_through_the_boards_library(tmp_path, dev_ca, running_broker, native_build_dir,
                                               target, key_type, key_format):
    library = BOARD_LIBRARY[target]
    require_library(library)
    cert, key = dev_ca.device(key_type)
    files = write_data_files(tmp_path / "data", target, [dev_ca.cert_pem], cert, key, key_format)

    outcome = probe_broker(files, running_broker, library, native_build_dir)

    assert outcome.ok, explain(outcome)
    assert outcome.library == library
    assert [name for name, _ in outcome.steps] == ["dns", "tcp", "tls", "mqtt-connect",
                                                   "mqtt-subscribe", "mqtt-publish"]
    assert "TLS" in dict(outcome.steps)["tls"] and "1.2" in dict(outcome.steps)["tls"]


@pytest.mark.parametrize("target", ["esp8266", "esp32"])
def test_extra_trust_anchors_are_read_too(tmp_path, dev_ca, running_broker, native_build_dir,
                                          target):
    # An unrelated first anchor (like Amazon Root CA 1 before CA 3): the second one must count.
    from tlsfixtures import new_authority
    library = BOARD_LIBRARY[target]
    require_library(library)
    cert, key = dev_ca.device("ec")
    other = new_authority("rsa", "unrelated root")
    files = write_data_files(tmp_path / "data", target, [other.cert_pem, dev_ca.cert_pem],
                             cert, key)
    if target == "esp8266":
        assert [p.name for p in files.ca_files] == ["ca.der", "ca_2.der"]

    outcome = probe_broker(files, running_broker, library, native_build_dir)

    assert outcome.ok, explain(outcome)

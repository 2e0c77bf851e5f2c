"""The device library's layout keeps its promises.

lib/AwsIotDevice is what PlatformIO compiles for a board, both in this template (a private
library) and for projects with `lib_deps` on this repository. These tests read the files
and fail when a change would break a build that cannot run here (the real toolchains are
not reachable offline):

- the portable core includes no Arduino header (it is host-tested by test/host);
- every per-board file compiles only on its board, so no build_src_filter is needed;
- the library never reads secrets.h itself (only the sketch's compile unit does);
- library.json names the frameworks, platforms and PubSubClient 2.8, and no extra script;
- the template's main.cpp and every example use the library's public header only.
"""

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIB = REPO / "lib" / "AwsIotDevice"
CORE = LIB / "src" / "core"
BOARD = LIB / "src" / "board"
SKETCHES = [REPO / "src" / "main.cpp"] + sorted(REPO.glob("examples/*/*.ino"))

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def includes(path):
    return INCLUDE.findall(path.read_text(encoding="utf-8"))


def code_lines(path):
    """Preprocessor and code lines, without comments and blank lines."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("//"):
            lines.append(stripped)
    return lines


def test_core_has_no_arduino_header():
    sources = sorted(CORE.glob("*.cpp")) + sorted(CORE.glob("*.h"))
    assert len(sources) >= 20
    for source in sources:
        for header in includes(source):
            # Arduino.h, WiFi.h, LittleFS.h, PubSubClient.h...; the SDKs' own headers.
            board_only = header[0].isupper() or header.startswith(
                ("esp", "bearssl", "mbedtls", "lwip", "freertos", "c_types", "user_interface"))
            assert not board_only, (source.name, header)


@pytest.mark.parametrize("name, macro", [("tls_esp8266.cpp", "ESP8266"), ("tls_esp32.cpp", "ESP32"),
                                         ("aws_iot_device.cpp", None)])
def test_board_files_guard_themselves(name, macro):
    lines = code_lines(BOARD / name)
    wanted = f"#if defined({macro})" if macro else "#if defined(ESP8266) || defined(ESP32)"
    assert lines[0] == wanted
    assert lines[-1].startswith("#endif")


def test_platformio_ini_needs_no_source_filter():
    text = (REPO / "platformio.ini").read_text(encoding="utf-8")
    assert not re.search(r"^\s*build_src_filter\s*=", text, re.M)


def test_library_never_reads_secrets_itself():
    for source in sorted(BOARD.glob("*")) + sorted(CORE.glob("*")):
        assert "secrets.h" not in includes(source), source.name
    implementation = (BOARD / "aws_iot_device.cpp").read_text(encoding="utf-8")
    define = implementation.index("#define AWS_IOT_DEVICE_NO_SECRETS")
    assert define < implementation.index('#include "../AwsIotDevice.h"')
    header = (LIB / "src" / "AwsIotDevice.h").read_text(encoding="utf-8")
    assert "#ifndef AWS_IOT_DEVICE_NO_SECRETS" in header


def test_library_json():
    manifest = json.loads((LIB / "library.json").read_text(encoding="utf-8"))
    assert manifest["name"] == "AwsIotDevice"
    assert manifest["frameworks"] == "arduino"
    assert set(manifest["platforms"]) == {"espressif8266", "espressif32"}
    assert manifest["dependencies"] == [{"owner": "knolleary", "name": "PubSubClient", "version": "2.8"}]
    assert manifest["build"] == {"srcDir": "src", "includeDir": "src"}
    assert "extraScript" not in json.dumps(manifest)  # the template loads the plugin as pre:


@pytest.mark.parametrize("sketch", SKETCHES, ids=lambda p: str(p.relative_to(REPO)))
def test_sketches_use_the_public_header_only(sketch):
    headers = includes(sketch)
    assert "AwsIotDevice.h" in headers
    private = [h for h in headers if h.startswith(("aws_iot_", "core/", "board/", "device_"))]
    assert private == []
    assert "secrets.h" not in headers  # AwsIotDevice.h brings it


def test_examples_for_both_boards_exist():
    names = {path.parent.name for path in REPO.glob("examples/*/*.ino")}
    assert {"telemetry_commands", "device_shadow"} <= names
    for path in REPO.glob("examples/*/*.ino"):
        assert path.stem == path.parent.name  # the Arduino IDE's rule: folder == sketch

"""The fleet: `batch --image` (one LittleFS image per device, OUT/manifest.json) and `flash` (esptool).

Images are read back with littlefs-python in each board's geometry (piohelpers' reader, not
the code under test) and compared byte for byte with the device's files; the geometry is
checked against the stand-in platforms' linker script and partition table, and through
real PlatformIO's `buildfs`. No board is attached: `flash` is tested through --dry-run, a
port that does not exist (real esptool fails) and esptool's offline commands.
"""

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import piohelpers
import pytest
from conftest import REPO, clean_environ, needs_file_modes, run_cli
from pkitools import Identity, key_pem

from espaws.errors import InputError
from espaws.fleet import flash, geometry, image

PLATFORM = {"esp8266": "espressif8266", "esp32": "espressif32"}
DEVICE_FILES = {"esp8266": ("ca.der", "cert.der", "private.der"), "esp32": ("ca.pem", "cert.pem", "private.pem")}


def write_devices(root, count=3):
    root = Path(root)
    for index in range(count):
        Identity(kind="ec" if index % 2 else "rsa2048").write_aws_style(root / f"thing-{index:02d}",
                                                                       prefix=f"{index:02d}cafe")
    return root


def device_outputs(folder):
    """The files prepare wrote for one device (everything but the images)."""
    return {p.name: p.read_bytes() for p in Path(folder).iterdir()
            if p.is_file() and p.name not in (image.IMAGE_NAME, "merged.bin")}


def cert_der(outputs, target):
    """The device certificate's DER bytes (whose sha256 is AWS IoT's certificate id)."""
    if target == "esp8266":
        return outputs["cert.der"]
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    return x509.load_pem_x509_certificate(outputs["cert.pem"]).public_bytes(Encoding.DER)


def load_manifest(out):
    return json.loads((Path(out) / "manifest.json").read_text())


# ---- geometry ------------------------------------------------------------------------------

def test_defaults_are_what_the_stand_in_platforms_layout_files_give():
    ld = (piohelpers.PLATFORM_DIRS["espressif8266"] / "ld" / "eagle.flash.4m1m.ld").read_text()
    csv = (piohelpers.PLATFORM_DIRS["espressif32"] / "partitions" / "default.csv").read_text()
    parsed = {"esp8266": geometry.from_ld_script(ld), "esp32": geometry.from_partitions(csv)}
    for target, found in parsed.items():
        default = geometry.DEFAULTS[target]
        assert (found.offset, found.size, found.block_size, found.page_size) == \
            (default.offset, default.size, default.block_size, default.page_size)
        reader = piohelpers.LITTLEFS_GEOMETRY[PLATFORM[target]]
        assert (default.size, default.block_size, default.page_size, default.name_max, default.disk_version) == \
            (reader.fs_size, reader.block_size, reader.page_size, reader.name_max, reader.disk_version)
    assert parsed["esp8266"].offset == 0x300000 and parsed["esp8266"].size == 1_024_000
    assert parsed["esp32"].offset == 0x290000 and parsed["esp32"].size == 0x160000


def test_partition_table_offsets_follow_on_and_the_last_filesystem_wins():
    csv = ("# Name, Type, SubType, Offset, Size\n"
           "nvs, data, nvs, , 0x5000\n"
           "app0, app, ota_0, , 1M\n"
           "spiffs, data, spiffs, , 64K\n"
           "fs, data, littlefs, , 0x20000\n")
    parts = geometry.parse_partitions(csv)
    assert [(p.name, p.offset) for p in parts] == [("nvs", 0x9000), ("app0", 0x10000), ("spiffs", 0x110000),
                                                    ("fs", 0x120000)]
    found = geometry.from_partitions(csv)
    assert (found.offset, found.size, found.block_size) == (0x120000, 0x20000, 4096)


@pytest.mark.parametrize("target, text, expected", [
    ("esp8266", "MEMORY { }\n", "no _FS_start, _FS_end, _FS_page, _FS_block"),
    ("esp32", "nvs, data, nvs, 0x9000, 0x5000\n", "no data partition of subtype spiffs, fat, littlefs"),
    ("esp32", "spiffs, data, spiffs, 0x290000, lots\n", "line 1: cannot read size 'lots'"),
])
def test_a_layout_file_without_a_filesystem_is_one_clear_error(tmp_path, target, text, expected):
    layout = tmp_path / "layout"
    layout.write_text(text)
    with pytest.raises(InputError) as caught:
        geometry.for_target(target, layout)
    assert len(caught.value.problems) == 1 and expected in caught.value.problems[0]
    assert str(layout) in caught.value.problems[0]


@pytest.mark.parametrize("target", ["esp8266", "esp32"])
def test_image_is_what_platformio_buildfs_makes_from_the_same_files(tmp_path, target):
    # Real PlatformIO runs the stand-in builder, which reads the geometry from the board's
    # linker script / partition table; the same files must give the same bytes.
    files = {"ca.der": os.urandom(837), "cert.der": os.urandom(600), "private.der": os.urandom(1200),
             "thing.txt": b"line-7-thing"}
    project = piohelpers.write_project(tmp_path / "project", {"board": piohelpers.env_options(PLATFORM[target])},
                                       data=files)
    result = piohelpers.run_pio(project, "run", "-t", "buildfs")
    assert result.returncode == 0, piohelpers.output(result)
    built = piohelpers.fs_image_path(project, "board").read_bytes()

    assert image.build(files, geometry.DEFAULTS[target]) == built


MKLITTLEFS = os.environ.get("MKLITTLEFS") or shutil.which("mklittlefs")


@pytest.mark.skipif(not MKLITTLEFS, reason="set MKLITTLEFS to a mklittlefs 3.2 built with LFS_NAME_MAX=32 "
                                           "(earlephilhower/mklittlefs 3.2.0 with littlefs v2.5.1: `make`)")
@pytest.mark.parametrize("target", ["esp8266", "esp32"])
def test_the_real_mklittlefs_unpacks_our_images_and_we_read_its_own(tmp_path, target):
    g = geometry.DEFAULTS[target]
    files = {"ca.der": os.urandom(837), "cert.der": os.urandom(600), "private.der": os.urandom(1200)}
    ours = tmp_path / "ours.bin"
    ours.write_bytes(image.build(files, g))
    flags = ["-b", str(g.block_size), "-p", str(g.page_size), "-s", str(g.size)]

    subprocess.run([MKLITTLEFS, "-u", str(tmp_path / "unpacked"), *flags, str(ours)], check=True, capture_output=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "unpacked").iterdir()} == files

    (tmp_path / "data").mkdir()
    for name, data in files.items():
        (tmp_path / "data" / name).write_bytes(data)
    subprocess.run([MKLITTLEFS, "-c", str(tmp_path / "data"), *flags, str(tmp_path / "theirs.bin")], check=True,
                   capture_output=True)
    assert image.read((tmp_path / "theirs.bin").read_bytes(), g) == files


def test_too_long_a_name_or_too_many_bytes_is_refused():
    small = geometry.Geometry("esp32", offset=0x290000, size=2 * 4096, block_size=4096, page_size=256)
    with pytest.raises(InputError, match="1 to 32 bytes"):
        image.build({"n" * 33: b"x"}, geometry.DEFAULTS["esp32"])
    with pytest.raises(InputError, match="do not fit a 8,192-byte LittleFS"):
        image.build({"a.pem": os.urandom(5000), "b.pem": os.urandom(5000)}, small)


# ---- batch --image -------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["esp8266", "esp32"])
def test_every_device_gets_an_image_of_exactly_its_files(tmp_path, target):
    devices = write_devices(tmp_path / "devices")
    (devices / "thing-01" / "thing.txt").write_bytes("line-1-thing\r\n".encode())
    out = tmp_path / "out"

    result = run_cli("batch", devices, "--out", out, "--target", target, "--image", "--jobs", "2")

    assert result.returncode == 0, result.stderr
    assert "images: 3 littlefs.bin" in result.stdout
    document = load_manifest(out)
    assert document["target"] == target and document["format"] == 1
    default = geometry.DEFAULTS[target]
    assert document["filesystem"]["offset"] == hex(default.offset)
    assert document["filesystem"]["disk_version"] == "2.0" and document["filesystem"]["name_max"] == 32
    assert [d["name"] for d in document["devices"]] == ["thing-00", "thing-01", "thing-02"]
    for entry in document["devices"]:
        folder = out / entry["name"]
        outputs = device_outputs(folder)
        assert set(DEVICE_FILES[target]) <= set(outputs)
        # Read back with an independent reader, in the board's geometry: exactly the device's files.
        assert piohelpers.read_littlefs_image(folder / image.IMAGE_NAME, PLATFORM[target]) == outputs
        data = (folder / image.IMAGE_NAME).read_bytes()
        assert entry["status"] == "ok" and entry["image"] == f"{entry['name']}/littlefs.bin"
        assert entry["image_sha256"] == hashlib.sha256(data).hexdigest()
        if os.name == "posix":  # it holds the private key (Windows has no such mode bits)
            assert (folder / image.IMAGE_NAME).stat().st_mode & 0o777 == 0o600
        assert [f["name"] for f in entry["files"]] == sorted(outputs)
        for record in entry["files"]:
            assert record["size"] == len(outputs[record["name"]])
            assert ("sha256" in record) == (not record["name"].startswith("private"))
        assert entry["certificate_sha256"] == hashlib.sha256(cert_der(outputs, target)).hexdigest()
    things = {d["name"]: d["thing"] for d in document["devices"]}
    assert things == {"thing-00": None, "thing-01": "line-1-thing", "thing-02": None}


def test_the_thing_name_file_goes_into_the_image(tmp_path):
    devices = write_devices(tmp_path / "devices", count=1)
    (devices / "thing-00" / "thing.txt").write_text("press-0001")
    assert run_cli("batch", devices, "--out", tmp_path / "out", "--image").returncode == 0
    files = piohelpers.read_littlefs_image(tmp_path / "out" / "thing-00" / image.IMAGE_NAME, "espressif8266")
    assert files.get("thing.txt") == b"press-0001"


def test_a_bad_thing_name_fails_that_device_before_its_image(tmp_path):
    devices = write_devices(tmp_path / "devices", count=2)
    (devices / "thing-01" / "thing.txt").write_bytes(b"x" * 129)
    result = run_cli("batch", devices, "--out", tmp_path / "out", "--image")
    assert result.returncode == 1
    assert "error: thing-01: " in result.stderr and "at most 128" in result.stderr
    assert not (tmp_path / "out" / "thing-01" / image.IMAGE_NAME).exists()
    assert (tmp_path / "out" / "thing-00" / image.IMAGE_NAME).is_file()


def test_a_second_run_gives_the_same_manifest_and_rewrites_no_image(tmp_path):
    devices = write_devices(tmp_path / "devices")
    out = tmp_path / "out"
    assert run_cli("batch", devices, "--out", out, "--image", "--jobs", "1").returncode == 0
    manifest_bytes = (out / "manifest.json").read_bytes()
    mtimes = {p: p.stat().st_mtime_ns for p in out.glob("*/littlefs.bin")}

    again = run_cli("batch", devices, "--out", out, "--image", "--jobs", "2")

    assert again.returncode == 0, again.stderr
    assert (out / "manifest.json").read_bytes() == manifest_bytes
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/littlefs.bin")} == mtimes
    other = tmp_path / "other"
    assert run_cli("batch", devices, "--out", other, "--image").returncode == 0
    assert (other / "manifest.json").read_bytes() == manifest_bytes  # no timestamps, no paths of the run


def test_a_failing_device_gets_no_image_and_the_others_go_on(tmp_path):
    devices = write_devices(tmp_path / "devices", count=3)
    out = tmp_path / "out"
    assert run_cli("batch", devices, "--out", out, "--image").returncode == 0
    assert (out / "thing-01" / image.IMAGE_NAME).is_file()
    # thing-01's key now belongs to another certificate: its old image must not stay behind.
    key = next((devices / "thing-01").glob("*-private.pem.key"))
    key.write_bytes(key_pem(Identity().key, "traditional"))

    result = run_cli("batch", devices, "--out", out, "--image", "--jobs", "2")

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: thing-01: "), result.stderr
    assert "2 ok, 1 failed of 3 devices" in result.stdout and "images: 2 littlefs.bin" in result.stdout
    assert not (out / "thing-01" / image.IMAGE_NAME).exists()
    entries = {d["name"]: d for d in load_manifest(out)["devices"]}
    assert entries["thing-01"]["status"] == "failed" and entries["thing-01"]["image"] is None
    assert "matches this private key" in entries["thing-01"]["problems"][0]
    assert entries["thing-00"]["status"] == entries["thing-02"]["status"] == "ok"


def test_files_that_do_not_fit_the_layout_fail_that_device_only(tmp_path):
    devices = write_devices(tmp_path / "devices", count=2)
    layout = tmp_path / "tiny.csv"
    layout.write_text("nvs, data, nvs, 0x9000, 0x5000\napp0, app, ota_0, 0x10000, 0x100000\n"
                      "spiffs, data, spiffs, 0x110000, 0x2000\n")

    result = run_cli("batch", devices, "--out", tmp_path / "out", "--target", "esp32", "--image",
                     "--fs-layout", layout)

    assert result.returncode == 1
    assert result.stderr.count("do not fit a 8,192-byte LittleFS") == 2, result.stderr
    assert "Traceback" not in result.stderr
    document = load_manifest(tmp_path / "out")
    assert document["filesystem"]["offset"] == "0x110000" and document["filesystem"]["source"] == str(layout)
    assert [d["status"] for d in document["devices"]] == ["failed", "failed"]


def test_a_layout_file_sets_the_geometry(tmp_path):
    devices = write_devices(tmp_path / "devices", count=1)
    layout = tmp_path / "big.csv"
    layout.write_text("app0, app, ota_0, 0x10000, 0x100000\nlittlefs, data, littlefs, 0x110000, 0x200000\n")
    out = tmp_path / "out"

    result = run_cli("batch", devices, "--out", out, "--target", "esp32", "--image", "--fs-layout", layout)

    assert result.returncode == 0, result.stderr
    big = piohelpers.LittleFSGeometry(block_size=4096, page_size=256, fs_size=0x200000)
    assert piohelpers.read_littlefs_image(out / "thing-00" / image.IMAGE_NAME, big) == \
        device_outputs(out / "thing-00")


def test_bad_layout_or_missing_littlefs_stops_before_anything_is_written(tmp_path):
    devices = write_devices(tmp_path / "devices", count=1)
    bad = tmp_path / "bad.ld"
    bad.write_text("nothing here\n")
    result = run_cli("batch", devices, "--out", tmp_path / "out", "--image", "--fs-layout", bad)
    assert result.returncode == 1 and not (tmp_path / "out").exists()
    assert result.stderr.strip() == (f"error: {bad}: no _FS_start, _FS_end, _FS_page, _FS_block (a linker script "
                                     "with a filesystem, such as eagle.flash.4m1m.ld, has PROVIDE ( _FS_start = "
                                     "0x... ) lines): give the esp8266 board's linker script (.ld)")

    # A Python without littlefs-python: a package of that name that fails to import stands in.
    shadow = tmp_path / "shadow" / "littlefs"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('not installed')\n")
    done = subprocess.run([sys.executable, str(REPO / "extra_scripts" / "aws_iot.py"), "batch", str(devices),
                           "--out", str(tmp_path / "out"), "--image"], capture_output=True, text=True,
                          env=clean_environ(PYTHONPATH=str(shadow.parent)), timeout=120)
    assert done.returncode == 1 and not (tmp_path / "out").exists()
    assert done.stderr.strip() == (f"error: littlefs-python is needed for images: run `{sys.executable} -m pip "
                                   "install 'littlefs-python>=0.12'`")


def test_without_image_nothing_of_the_fleet_is_written(tmp_path):
    devices = write_devices(tmp_path / "devices", count=1)
    assert run_cli("batch", devices, "--out", tmp_path / "out").returncode == 0
    assert not (tmp_path / "out" / "manifest.json").exists()
    assert not (tmp_path / "out" / "thing-00" / image.IMAGE_NAME).exists()


# ---- flash ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def imaged(tmp_path_factory):
    """{target: OUT} of a batch --image run of two devices."""
    root = tmp_path_factory.mktemp("fleet")
    devices = write_devices(root / "devices", count=2)
    (devices / "thing-00" / "thing.txt").write_text("press-line-00")
    outs = {}
    for target in ("esp8266", "esp32"):
        outs[target] = root / f"out-{target}"
        result = run_cli("batch", devices, "--out", outs[target], "--target", target, "--image")
        assert result.returncode == 0, result.stderr
    return outs


@pytest.mark.parametrize("target, offset, baud", [("esp8266", "0x300000", "115200"), ("esp32", "0x290000", "460800")])
def test_dry_run_prints_the_exact_esptool_commands(imaged, target, offset, baud):
    device = imaged[target] / "thing-00"
    result = run_cli("flash", device, "--target", target, "--port", "/dev/ttyUSB7", "--dry-run")

    assert result.returncode == 0, result.stderr
    image_path = str(device / "littlefs.bin")
    base = [sys.executable, "-m", "esptool", "--chip", target, "--port", "/dev/ttyUSB7", "--baud", baud]
    write = [*base, "--before", "default-reset", "--after", "no-reset", "write-flash", offset, image_path]
    verify = [*base, "--before", "default-reset", "--after", "hard-reset", "verify-flash", offset, image_path]
    assert result.stdout.splitlines() == [flash.shown(write), flash.shown(verify)]
    # Both are commands esptool accepts (its own parser checks the options; --help needs no board).
    for command in (write, verify):
        verb = command.index("write-flash" if command is write else "verify-flash")
        done = subprocess.run([*command[:verb + 1], "--help"], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_a_board_that_is_not_there_is_one_line_and_exit_1(imaged):
    result = run_cli("flash", imaged["esp8266"] / "thing-00", "--target", "esp8266", "--port",
                     "/dev/no-such-port-here")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("error: thing-00 (thing press-line-00, certificate ")
    assert "esptool write-flash failed on /dev/no-such-port-here" in lines[0]


def test_flash_refuses_what_the_manifest_does_not_vouch_for(imaged, tmp_path):
    device = imaged["esp32"] / "thing-01"
    wrong = run_cli("flash", device, "--target", "esp8266", "--port", "P", "--dry-run")
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == ("error: thing-01: the image was made for esp32, not esp8266: use --target "
                                    "esp32 or make the images again")
    nothing = run_cli("flash", device, "--target", "esp32")
    assert nothing.returncode == 1 and "give --port PORT to flash the board, or --app" in nothing.stderr

    copy = tmp_path / "out"
    shutil.copytree(imaged["esp32"], copy)
    path = copy / "thing-01" / "littlefs.bin"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    changed = run_cli("flash", copy / "thing-01", "--target", "esp32", "--port", "P", "--dry-run")
    assert changed.returncode == 1 and "not the image the manifest records" in changed.stderr
    (copy / "manifest.json").unlink()
    missing = run_cli("flash", copy / "thing-00", "--target", "esp32", "--port", "P", "--dry-run")
    assert missing.returncode == 1 and "manifest.json: not found or not JSON" in missing.stderr


def app_image(path, chip):
    """A minimal valid application image, made with esptool's own image classes."""
    import esptool.bin_image as bin_image
    segment = bin_image.ImageSegment(0x40100000 if chip == "esp8266" else 0x40080000, b"\x00" * 64)
    segment.name = ".iram0.text"
    if chip == "esp8266":
        app = bin_image.ESP8266ROMFirmwareImage()
        app.entrypoint, app.segments = segment.addr, [segment]
        app.save(str(path) + "-")  # v1 images are saved as <name>0x00000.bin
        Path(str(path) + "-0x00000.bin").rename(path)
    else:
        app = bin_image.ESP32FirmwareImage()
        app.entrypoint, app.segments = segment.addr, [segment]
        app.save(str(path))
    return Path(path)


def esptool_run(*args):
    return subprocess.run([sys.executable, "-m", "esptool", *map(str, args)], capture_output=True, text=True)


def test_merged_esp8266_image_has_the_app_at_0_and_the_filesystem_at_its_offset(imaged, tmp_path):
    device = imaged["esp8266"] / "thing-01"
    app = app_image(tmp_path / "firmware.bin", "esp8266")
    merged = tmp_path / "merged.bin"

    result = run_cli("flash", device, "--target", "esp8266", "--app", app, "--merged-out", merged)

    assert result.returncode == 0, result.stderr
    data = merged.read_bytes()
    fs = (device / "littlefs.bin").read_bytes()
    assert data[:app.stat().st_size] == app.read_bytes() and data[0x300000:0x300000 + len(fs)] == fs
    if os.name == "posix":
        assert merged.stat().st_mode & 0o777 == 0o600
    extra = run_cli("flash", device, "--target", "esp8266", "--app", app, "--bootloader", app)
    assert extra.returncode == 1 and "--bootloader: only for esp32" in extra.stderr
    info = esptool_run("--chip", "esp8266", "image-info", merged)
    assert info.returncode == 0 and "Entry point: 0x40100000" in info.stdout and "(valid)" in info.stdout, info.stdout
    assert piohelpers.read_littlefs_image(device / "littlefs.bin", "espressif8266") == device_outputs(device)


def test_merged_esp32_image_needs_the_bootloader_and_places_every_part(imaged, tmp_path):
    device = imaged["esp32"] / "thing-00"
    app = app_image(tmp_path / "firmware.bin", "esp32")
    boot = app_image(tmp_path / "bootloader.bin", "esp32")
    parts = tmp_path / "partitions.bin"
    parts.write_bytes(b"\xaa\x50" + b"\xff" * 3070)

    missing = run_cli("flash", device, "--target", "esp32", "--app", app)
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("error: an esp32 full-flash image needs --bootloader and --partitions")

    result = run_cli("flash", device, "--target", "esp32", "--app", app, "--bootloader", boot, "--partitions", parts,
                     "--port", "/dev/ttyUSB0", "--dry-run")
    assert result.returncode == 0, result.stderr
    split = shlex.split if os.name == "posix" else lambda line: line.split()  # list2cmdline on Windows
    merge, write, _verify = [split(line) for line in result.stdout.splitlines()]
    assert merge[merge.index("merge-bin"):] == ["merge-bin", "-o", str(device / "merged.bin"), "0x1000", str(boot),
                                                "0x8000", str(parts), "0x10000", str(app), "0x290000",
                                                str(device / "littlefs.bin")]
    assert write[-2:] == ["0x0", str(device / "merged.bin")]
    assert not (device / "merged.bin").exists()  # a dry run runs nothing

    done = run_cli("flash", device, "--target", "esp32", "--app", app, "--bootloader", boot, "--partitions", parts)
    assert done.returncode == 0, done.stderr
    data = (device / "merged.bin").read_bytes()
    assert data[0x1000:0x1000 + boot.stat().st_size] == boot.read_bytes()
    assert data[0x8000:0x8000 + 3072] == parts.read_bytes()
    assert data[0x290000:] == (device / "littlefs.bin").read_bytes()
    extracted = tmp_path / "app-from-merged.bin"
    extracted.write_bytes(data[0x10000:0x10000 + app.stat().st_size])
    info = esptool_run("--chip", "esp32", "image-info", extracted)
    assert info.returncode == 0 and "Entry point: 0x40080000" in info.stdout, info.stdout + info.stderr


def test_the_flash_verb_imports_neither_esptool_nor_littlefs_nor_cryptography():
    code = ("import argparse, sys; sys.path.insert(0, sys.argv[1]); from espaws.fleet import flash; "
            "flash.add_arguments(argparse.ArgumentParser()); "
            "print(sorted(m for m in ('esptool', 'littlefs', 'cryptography') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(REPO / "extra_scripts")], capture_output=True,
                          text=True, env=clean_environ(), check=True)
    assert done.stdout.strip() == "[]"


# ---- inside PlatformIO: the env's own layout ----------------------------------------------

@pytest.mark.parametrize("platform, files, options, offset, size", [
    ("espressif8266", {}, {}, "0x300000", 1_024_000),
    ("espressif8266", {"small.ld": "PROVIDE ( _FS_start = 0x40300000 );\nPROVIDE ( _FS_end = 0x403FB000 );\n"
                                  "PROVIDE ( _FS_page = 0x100 );\nPROVIDE ( _FS_block = 0x1000 );\n"},
     {"board_build.ldscript": "small.ld"}, "0x100000", 0xFB000),
    ("espressif32", {"custom.csv": "nvs, data, nvs, 0x9000, 0x5000\napp0, app, ota_0, 0x10000, 0x1F0000\n"
                                   "littlefs, data, littlefs, 0x200000, 0x100000\n"},
     {"board_build.partitions": "custom.csv"}, "0x200000", 0x100000),
])
def test_fleet_images_target_takes_the_geometry_from_the_env(tmp_path, platform, files, options, offset, size):
    project = piohelpers.write_project(
        tmp_path / "project",
        {"board": piohelpers.env_options(platform, extra_scripts=[piohelpers.plugin_extra_script()], **options)},
        files=files)
    write_devices(project / "devices", count=2)

    result = piohelpers.run_pio(project, "run", "-t", "iot-fleet-images")

    assert result.returncode == 0, piohelpers.output(result)
    document = load_manifest(project / "fleet")
    layout = (project / next(iter(files))) if files else \
        piohelpers.PLATFORM_DIRS[platform] / "ld" / "eagle.flash.4m1m.ld"
    assert document["filesystem"]["offset"] == offset and document["filesystem"]["size"] == size
    assert Path(document["filesystem"]["source"]).resolve() == layout.resolve()
    block = 8192 if platform == "espressif8266" and not files else 4096
    fs = piohelpers.LittleFSGeometry(block_size=block, page_size=256, fs_size=size)
    for name in ("thing-00", "thing-01"):
        folder = project / "fleet" / name
        assert piohelpers.read_littlefs_image(folder / "littlefs.bin", fs) == device_outputs(folder)


def test_fleet_images_target_takes_folder_options_written_on_windows(tmp_path):
    project = piohelpers.write_project(tmp_path / "project", {"board": piohelpers.env_options(
        "espressif8266", extra_scripts=[piohelpers.plugin_extra_script()],
        custom_aws_iot_fleet_devices=r"site\devices", custom_aws_iot_fleet_out=r"out\fleet")})
    write_devices(project / "site" / "devices", count=1)

    result = piohelpers.run_pio(project, "run", "-t", "iot-fleet-images")

    assert result.returncode == 0, piohelpers.output(result)
    assert (project / "out" / "fleet" / "thing-00" / "littlefs.bin").is_file()


@needs_file_modes
def test_the_merged_image_file_is_private_before_esptool_writes_the_key(tmp_path):
    old = os.umask(0)  # the most permissive umask: the mode must come from us
    try:
        fresh = tmp_path / "new" / "merged.bin"
        flash.create_private(fresh)
        earlier = tmp_path / "merged.bin"
        earlier.write_bytes(b"an earlier image with a key")
        earlier.chmod(0o644)
        flash.create_private(earlier)
    finally:
        os.umask(old)
    for path in (fresh, earlier):
        assert path.stat().st_mode & 0o777 == 0o600 and path.read_bytes() == b""

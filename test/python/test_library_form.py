"""The repository as a PlatformIO library: a project that is NOT this repository adds one
`lib_deps` line and gets the plugin's files, secrets.h and targets (real PlatformIO, offline)."""

import pytest

import piohelpers as ph
from conftest import REPO
from pkitools import Identity

SECRETS = {"WIFI_SSID": "lib net", "WIFI_PASSWORD": "lib-form-secret",
           "AWS_IOT_ENDPOINT": "abc123-ats.iot.eu-west-1.amazonaws.com"}
# The user's own source: it includes the generated header from THEIR src/.
USER_MAIN = '#include "secrets.h"\nint main(void) { return sizeof(WIFI_PASSWORD) > 1 ? 0 : 1; }\n'
TARGETS = ("iot-broker", "iot-check", "iot-dev-certs", "iot-prepare", "iot-probe")


def library_env(platform="espressif8266", *, also_pre_script=False, **options):
    extra = {"extra_scripts": [ph.plugin_extra_script()]} if also_pre_script else {}
    return ph.env_options(platform, lib_deps=ph.library_uri(REPO), **extra, **options)


@pytest.fixture
def user_project(tmp_path):
    project = ph.write_project(tmp_path / "my app", {"esp8266": library_env()},
                               sources={"main.c": USER_MAIN}, data={"index.html": "<p>mine</p>"})
    ph.provide_pubsubclient(project, "esp8266")
    Identity(kind="ec").write_aws_style(project / "certs", with_ca=False)
    return project


def test_targets_are_listed_for_the_ide(user_project):
    listed = ph.run_pio(user_project, "run", "--list-targets")
    assert listed.returncode == 0, ph.output(listed)
    for name in TARGETS:
        assert name in listed.stdout


def test_build_prepares_data_and_compiles_user_source_then_noop(user_project):
    first = ph.run_pio(user_project, "run", env=SECRETS)
    assert first.returncode == 0, ph.output(first)
    assert sorted(p.name for p in (user_project / "data").iterdir()) == [
        "ca.der", "ca_2.der", "cert.der", "index.html", "private.der"]
    assert ".pio/build/esp8266/src/main.o" in ph.compiled_files(first)
    header = ph.build_dir(user_project, "esp8266") / "aws_iot" / "secrets.h"
    assert '#define WIFI_PASSWORD "lib-form-secret"' in header.read_text()
    assert "lib-form-secret" not in ph.output(first)
    objects = ph.object_mtimes(user_project, "esp8266")
    again = ph.run_pio(user_project, "run", env=SECRETS)
    assert again.returncode == 0, ph.output(again)
    assert ph.count_compiled(again) == 0
    assert ph.object_mtimes(user_project, "esp8266") == objects


def test_image_holds_the_identity_and_the_users_files(user_project):
    built = ph.run_pio(user_project, "run", "-t", "buildfs", env=SECRETS)
    assert built.returncode == 0, ph.output(built)
    files = ph.read_littlefs_image(ph.fs_image_path(user_project, "esp8266"))
    data = user_project / "data"
    assert files == {p.name: p.read_bytes() for p in data.iterdir()}
    assert {"cert.der", "private.der", "index.html"} <= set(files)


def test_bad_input_is_refused_the_same_way(user_project):
    (user_project / "certs" / "a1b2c3d4e5-private.pem.key").write_text("not a key\n")
    before = ph.snapshot_tree(user_project / "data")
    result = ph.run_pio(user_project, "run", "-t", "buildfs", env=SECRETS)
    assert result.returncode != 0
    text = ph.output(result)
    assert "aws_iot: certs/a1b2c3d4e5-private.pem.key" in text
    assert "Traceback" not in text and 'File "' not in text
    assert ph.snapshot_tree(user_project / "data") == before


def test_pre_script_and_library_together_load_once(tmp_path):
    project = ph.write_project(tmp_path / "both", {"esp8266": library_env(also_pre_script=True)},
                               sources={"main.c": USER_MAIN})
    ph.provide_pubsubclient(project, "esp8266")
    Identity(kind="ec").write_aws_style(project / "certs", with_ca=False)
    listed = ph.run_pio(project, "run", "--list-targets")
    assert listed.returncode == 0, ph.output(listed)
    assert listed.stdout.count("iot-prepare") == 1
    built = ph.run_pio(project, "run", env=SECRETS)
    assert built.returncode == 0, ph.output(built)
    assert built.stdout.count("Preparing the board's certificate files") == 1

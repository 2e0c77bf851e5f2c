"""Paths, names, line endings and code pages as Windows users have them.

Where behaviour depends on the system, the pure functions are run with Windows' rules
(ntpath, PureWindowsPath) here; the rest runs for real: a project under a folder with
spaces and accents through real PlatformIO, output on a cp437 console.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path, PureWindowsPath

import pytest

import piohelpers as ph
from conftest import REPO, SCRIPT, clean_environ, run_cli, snapshot
from pkitools import Identity

from espaws.rig import broker
from espaws.portable import option_path, printable, windows_name_problem

PROJECT = r"C:\Users\José\Documents\PlatformIO\Projects\my app"


# ---- folder options: custom_aws_iot_certs_dir / data_dir, AWS_IOT_CERTS_DIR ----

@pytest.mark.parametrize("value, expected", [
    ("certs", PROJECT + r"\certs"),
    (r"certs\dev", PROJECT + r"\certs\dev"),
    ("certs/dev", PROJECT + r"\certs\dev"),
    (r"..\shared certs", r"C:\Users\José\Documents\PlatformIO\Projects\shared certs"),
    (r"D:\AWS\thing-1", r"D:\AWS\thing-1"),
    ("d:/AWS/thing-1", r"d:\AWS\thing-1"),
    (r"\\server\share\certs", r"\\server\share\certs"),
])
def test_option_folders_on_windows(value, expected):
    resolved = option_path(PROJECT, value, "nt")
    assert resolved == expected
    assert PureWindowsPath(resolved) == PureWindowsPath(expected)


def test_option_folders_written_on_windows_read_on_posix():
    assert option_path("/home/jo/my app", r"certs\dev", "posix") == "/home/jo/my app/certs/dev"
    assert option_path("/home/jo/my app", "/etc/certs", "posix") == "/etc/certs"
    with pytest.raises(ValueError, match=r"'C:\\\\certs' is a Windows path \(drive C:\)"):
        option_path("/home/jo/my app", "C:\\certs", "posix")


@pytest.mark.skipif(os.name == "nt", reason="a drive letter is a valid folder option on Windows")
def test_a_windows_drive_in_an_option_is_one_clear_line(tmp_path):
    Identity().write_aws_style(tmp_path / "certs")
    before = snapshot(tmp_path)
    result = run_cli("prepare", "--project-dir", tmp_path, "--certs-dir", r"C:\Users\jo\certs")
    assert result.returncode == 1
    assert result.stderr.startswith("error: 'C:\\\\Users\\\\jo\\\\certs' is a Windows path")
    assert len(result.stderr.splitlines()) == 1
    assert snapshot(tmp_path) == before


def test_backslash_folder_option_works_here(tmp_path):
    Identity().write_aws_style(tmp_path / "certs" / "dev")
    result = run_cli("prepare", "--project-dir", tmp_path, env={"AWS_IOT_CERTS_DIR": r"certs\dev"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "cert.der").exists()


# ---- names Windows reserves ----

@pytest.mark.parametrize("name", ["CON", "con", "Nul.txt", "AUX.tar.gz", "COM1", "lpt9.pem", "PRN "])
def test_reserved_names(name):
    assert "Windows reserves" in windows_name_problem(name)


@pytest.mark.parametrize("name", ["CONSOLE", "COM10", "LPT0", "null", "José", "thing-1.example", "aux-2"])
def test_names_windows_accepts(name):
    assert windows_name_problem(name) == ""


# ---- mosquitto on Windows ----

def test_mosquitto_is_looked_for_where_its_windows_installer_puts_it():
    found = broker.mosquitto_fallbacks("nt", {"ProgramFiles": r"C:\Program Files",
                                              "ProgramFiles(x86)": r"C:\Program Files (x86)"})
    assert found == [r"C:\Program Files\mosquitto\mosquitto.exe",
                     r"C:\Program Files (x86)\mosquitto\mosquitto.exe"]
    assert broker.mosquitto_fallbacks("nt", {}) == [r"C:\Program Files\mosquitto\mosquitto.exe"]
    assert "/usr/sbin/mosquitto" in broker.mosquitto_fallbacks("posix", {})


def test_install_hint_per_system():
    assert "Windows installer" in broker.install_hint("nt", "win32")
    assert "C:\\Program Files\\mosquitto" in broker.install_hint("nt", "win32")
    assert broker.install_hint("posix", "darwin") == "brew install mosquitto"
    assert broker.install_hint("posix", "linux") == "sudo apt-get install mosquitto"


def test_broker_config_has_no_user_line_where_there_is_no_user():
    files = broker.BrokerFiles(Path("b"), Path("b/c"), Path("b/ca.pem"), Path("b/s.crt"), Path("b/s.key"),
                               Path("b/log"), 8883, "", ("localhost",))
    assert "\nuser " not in broker.render_config(files, None)
    assert "\nuser jo\n" in broker.render_config(files, "jo")


# ---- files from Windows editors: CRLF and a UTF-8 BOM give the same bytes ----

@pytest.mark.parametrize("target", ["esp8266", "esp32"])
def test_crlf_and_bom_inputs_give_byte_identical_outputs(tmp_path, target):
    identity = Identity(kind="rsa2048")
    dotenv = "WIFI_SSID=home net\nWIFI_PASSWORD=pa$$ word\nAWS_IOT_ENDPOINT=abc123-ats.iot.eu-west-1.amazonaws.com\n"
    outputs = []
    for name, crlf, bom in (("unix", False, False), ("windows", True, True), ("crlf", True, False)):
        project = tmp_path / name
        identity.write_aws_style(project / "certs", crlf=crlf, bom=bom, with_ca=False)
        text = dotenv.replace("\n", "\r\n") if crlf else dotenv
        (project / ".env").write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
        result = run_cli("prepare", "--project-dir", project, "--target", target,
                         "--secrets-out", project / "secrets.h")
        assert result.returncode == 0, result.stderr
        outputs.append({p.name: p.read_bytes() for p in [*(project / "data").iterdir(), project / "secrets.h"]})
    assert outputs[0] == outputs[1] == outputs[2]
    assert b'"pa$$ word"' in outputs[0]["secrets.h"]


# ---- code pages ----

def test_messages_fit_every_code_page():
    """No character outside ASCII in a string the plugin prints (docstrings aside)."""
    offenders = []
    for path in sorted((REPO / "extra_scripts").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        offenders += [f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str)
                      and id(node) not in docstrings and not node.value.isascii()]
    assert offenders == []


def test_output_on_a_cp437_console_escapes_what_it_cannot_show(tmp_path):
    # Piped output on Windows goes through the console's code page, strictly.
    project = tmp_path / "José ☃ 🛰 project"
    Identity().write_aws_style(project / "certs")
    (project / "certs" / "notes ☃.txt").write_text("not a certificate")
    done = subprocess.run([sys.executable, str(SCRIPT), "prepare", "--project-dir", str(project)],
                          capture_output=True, env=clean_environ(PYTHONIOENCODING="cp437"))
    out, err = done.stdout.decode("cp437"), done.stderr.decode("cp437")
    assert done.returncode == 0, out + err
    assert "Traceback" not in out + err
    assert "certs/notes \\u2603.txt" in out + err  # the snowman is not in cp437
    assert "files in data/" in out
    dev = subprocess.run([sys.executable, str(SCRIPT), "dev-certs", "--project-dir", str(project)],
                         capture_output=True, env=clean_environ(PYTHONIOENCODING="cp437"))
    assert dev.returncode == 0, dev.stderr.decode("cp437")
    assert "José \\u2603 \\U0001f6f0 project" in dev.stdout.decode("cp437")  # é is in cp437


def test_printable_keeps_what_the_stream_can_write():
    class Stream:
        encoding = "cp1252"
    assert printable("José ☃", Stream()) == "José \\u2603"
    assert printable("bad \udcff name", Stream()) == "bad \\udcff name"  # an undecodable file name


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs a file system that takes any bytes "
                    "in a name (Linux): Windows and macOS refuse undecodable names")
def test_an_undecodable_file_name_is_shown_escaped(tmp_path):
    import os
    Identity().write_aws_style(tmp_path / "certs")
    with open(os.path.join(os.fsencode(tmp_path / "certs"), b"copy-\xff-certificate.pem.crt"), "wb") as handle:
        handle.write(b"-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    result = subprocess.run([sys.executable, str(SCRIPT), "check", "--project-dir", str(tmp_path)],
                            capture_output=True, env=clean_environ(PYTHONIOENCODING="utf-8"))
    text = (result.stdout + result.stderr).decode("utf-8")
    assert "Traceback" not in text
    assert "copy-\\xff-certificate.pem.crt" in text or "copy-\\udcff-certificate.pem.crt" in text


# ---- a Windows user's project folder, through real PlatformIO ----

def test_project_in_a_folder_with_spaces_and_accents_builds_and_packs_its_image(tmp_path):
    project = ph.write_project(
        tmp_path / "Users" / "José" / "Documents" / "PlatformIO" / "Projects" / "my app",
        {"esp8266": ph.env_options("espressif8266", extra_scripts=[ph.plugin_extra_script()])},
        sources={"main.c": '#include "secrets.h"\nint main(void) { return sizeof(WIFI_SSID) > 1 ? 0 : 1; }\n'},
        data={"index.html": "<p>José</p>"})
    Identity().write_aws_style(project / "certs", with_ca=False)
    env = {"WIFI_SSID": "café wifi", "WIFI_PASSWORD": "pass word",
           "AWS_IOT_ENDPOINT": "abc123-ats.iot.eu-west-1.amazonaws.com"}
    built = ph.run_pio(project, "run", env=env)
    assert built.returncode == 0, ph.output(built)
    image = ph.run_pio(project, "run", "-t", "buildfs", env=env)
    assert image.returncode == 0, ph.output(image)
    files = ph.read_littlefs_image(ph.fs_image_path(project, "esp8266"))
    assert sorted(files) == ["ca.der", "ca_2.der", "cert.der", "index.html", "private.der"]
    assert files["private.der"] == (project / "data" / "private.der").read_bytes()
    header = (ph.build_dir(project, "esp8266") / "aws_iot" / "secrets.h").read_text()
    assert '#define WIFI_SSID "caf\\303\\251 wifi"' in header


PIO_ENV = {"WIFI_SSID": "net", "WIFI_PASSWORD": "pass", "AWS_IOT_ENDPOINT": "abc123-ats.iot.eu-west-1.amazonaws.com"}


def certs_option_project(folder, value):
    project = ph.write_project(folder, {"esp8266": ph.env_options(
        "espressif8266", extra_scripts=[ph.plugin_extra_script()], custom_aws_iot_certs_dir=value)})
    Identity().write_aws_style(project / "certs" / "thing-1", with_ca=False)
    return project


def test_platformio_takes_backslash_folder_options(tmp_path):
    project = certs_option_project(tmp_path / "p", r"certs\thing-1")
    built = ph.run_pio(project, "run", "-t", "buildfs", env=PIO_ENV)
    assert built.returncode == 0, ph.output(built)
    assert "cert.der" in ph.read_littlefs_image(ph.fs_image_path(project, "esp8266"))


@pytest.mark.skipif(os.name == "nt", reason="a drive letter is a valid folder option on Windows")
def test_platformio_refuses_a_drive_letter_where_there_are_no_drives(tmp_path):
    project = certs_option_project(tmp_path / "p", r"D:\AWS\thing-1")
    refused = ph.run_pio(project, "run", env=PIO_ENV)
    assert refused.returncode != 0
    assert "aws_iot: 'D:\\\\AWS\\\\thing-1' is a Windows path (drive D:) and this system has no drives" \
        in ph.output(refused)
    assert "Traceback" not in ph.output(refused) and 'File "' not in ph.output(refused)


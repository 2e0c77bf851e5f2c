"""thing.txt: the per-device thing name on the board's filesystem (identity/thing.py)."""

import pytest

from conftest import run_cli, snapshot
from pkitools import Identity

from espaws.identity import thing


@pytest.mark.parametrize("data, name", [
    (b"kitchen-1", "kitchen-1"),
    (b"kitchen-1\n", "kitchen-1"),
    (b"kitchen-1\r\n", "kitchen-1"),
    (b"\xef\xbb\xbfkitchen-1\r\n", "kitchen-1"),  # Notepad's BOM
    (b"a:b_c-D9", "a:b_c-D9"),
    (b"x" * 128, "x" * 128),
])
def test_accepted_files(data, name):
    assert thing.from_file(data) == (name, None)


@pytest.mark.parametrize("data, problem", [
    (b"", "the thing name is empty"),
    (b"\n", "the thing name is empty"),
    (b"x" * 129, "the thing name is 129 bytes, AWS IoT allows at most 128"),
    (b"kitchen 1", "(found ' ' at position 8)"),
    (b"kitchen-1\n\n", "holds more than one line"),
    (b"a\nb", "holds more than one line"),
    (b"k\xc3\xbcche", "(found '\xfc' at position 2)"),
    (b"k\xfcche", "not UTF-8 text"),
    (b"room/1", "(found '/' at position 5)"),  # would break the thing's topics
    (b"+", "(found '+' at position 1)"),
])
def test_refused_files(data, problem):
    name, found = thing.from_file(data)
    assert problem in found


def test_the_device_reads_what_is_written():
    assert thing.output("kitchen-1").data == b"kitchen-1"  # no newline: the exact client id bytes
    assert thing.output("kitchen-1").name == "thing.txt" and not thing.output("kitchen-1").private


def test_sources_and_their_conflict(tmp_path):
    assert thing.resolve(tmp_path, "certs", {}) == (None, None, [])
    assert thing.resolve(tmp_path, "certs", {"AWS_IOT_THING_NAME": ""}) == (None, None, [])
    assert thing.resolve(tmp_path, "certs", {"AWS_IOT_THING_NAME": "a"}) == ("a", "AWS_IOT_THING_NAME", [])
    (tmp_path / "thing.txt").write_text("b\n")
    assert thing.resolve(tmp_path, "certs", {}) == ("b", "certs/thing.txt", [])
    assert thing.resolve(tmp_path, "certs", {"AWS_IOT_THING_NAME": "b"}) == ("b", "certs/thing.txt", [])
    name, _, problems = thing.resolve(tmp_path, "certs", {"AWS_IOT_THING_NAME": "a"})
    assert name is None
    assert problems == ["certs/thing.txt and AWS_IOT_THING_NAME name different things: keep one of them"]


def test_a_folder_named_thing_txt_is_one_line(tmp_path):
    (tmp_path / "thing.txt").mkdir()
    (problem,) = thing.resolve(tmp_path, "certs", {})[2]
    assert problem.startswith("certs/thing.txt: cannot be read (")  # strerror differs on Windows
    assert problem.endswith("): make it a file holding the thing name")


def test_prepare_writes_checks_and_removes_the_file(tmp_path):
    Identity().write_aws_style(tmp_path / "certs")
    result = run_cli("prepare", "--project-dir", tmp_path, env={"AWS_IOT_THING_NAME": "garage"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "thing.txt").read_bytes() == b"garage"
    check = run_cli("check", "--project-dir", tmp_path, env={"AWS_IOT_THING_NAME": "garage"})
    assert "would write data/thing.txt (6 bytes)" in check.stdout
    assert "certs/thing.txt" not in check.stdout + check.stderr
    # From the certs folder too (a device folder used as certs dir), and never reported as a stray file.
    (tmp_path / "certs" / "thing.txt").write_text("shed\n")
    result = run_cli("prepare", "--project-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "thing.txt: ignored" not in result.stdout + result.stderr
    assert (tmp_path / "data" / "thing.txt").read_bytes() == b"shed"
    before = snapshot(tmp_path / "data")
    conflict = run_cli("prepare", "--project-dir", tmp_path, env={"AWS_IOT_THING_NAME": "garage"})
    assert conflict.returncode == 1
    assert conflict.stderr == ("error: certs/thing.txt and AWS_IOT_THING_NAME name different things: "
                               "keep one of them\n")
    assert snapshot(tmp_path / "data") == before
    (tmp_path / "certs" / "thing.txt").unlink()
    result = run_cli("prepare", "--project-dir", tmp_path)
    assert result.returncode == 0
    assert "thing.txt removed" in result.stdout
    assert not (tmp_path / "data" / "thing.txt").exists()


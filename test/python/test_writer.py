"""Writing safely: atomic, only when changed, 0600 keys, stale outputs removed, user files kept."""

import json
import os
import threading

from aws_iot_tools import writer
from conftest import needs_file_modes
from aws_iot_tools.targets import Output


def test_unchanged_content_keeps_mtime(tmp_path):
    path = tmp_path / "f.der"
    assert writer.write_if_changed(path, b"abc")
    os.utime(path, ns=(1, 1))
    assert not writer.write_if_changed(path, b"abc")
    assert path.stat().st_mtime_ns == 1
    assert writer.write_if_changed(path, b"abd")
    assert path.read_bytes() == b"abd"


@needs_file_modes
def test_private_files_are_0600_from_the_start(tmp_path):
    path = tmp_path / "private.der"
    writer.write_if_changed(path, b"key", private=True)
    assert path.stat().st_mode & 0o777 == 0o600
    os.chmod(path, 0o644)
    writer.write_if_changed(path, b"key", private=True)  # same bytes: mode repaired anyway
    assert path.stat().st_mode & 0o777 == 0o600


def test_no_temp_files_left(tmp_path):
    writer.write_if_changed(tmp_path / "a", b"1")
    assert [p.name for p in tmp_path.iterdir()] == ["a"]


def test_stale_outputs_removed_user_files_kept(tmp_path):
    data, manifest = tmp_path / "data", tmp_path / "state" / "m.json"
    data.mkdir()
    (data / "index.html").write_text("user file")
    (data / "ca_3.der").write_bytes(b"user's own file with our naming, never written by us")
    writer.sync_outputs(data, [Output("ca.der", b"1"), Output("ca_2.der", b"2")], manifest)
    results = writer.sync_outputs(data, [Output("ca.der", b"1")], manifest)
    assert results == [("ca.der", "unchanged"), ("ca_2.der", "removed")]
    assert sorted(p.name for p in data.iterdir()) == ["ca.der", "ca_3.der", "index.html"]
    assert json.loads(manifest.read_text()) == ["ca.der"]


def test_damaged_manifest_never_deletes_outside(tmp_path):
    data, manifest = tmp_path / "data", tmp_path / "m.json"
    data.mkdir()
    (tmp_path / "precious").write_text("x")
    manifest.write_text(json.dumps(["../precious", "/etc/passwd", ".", 7]))
    writer.sync_outputs(data, [Output("ca.der", b"1")], manifest)
    assert (tmp_path / "precious").exists()


def test_parallel_syncs_do_not_corrupt(tmp_path):
    data, manifest = tmp_path / "data", tmp_path / "m.json"
    payload = [Output("ca.der", b"A" * 4096), Output("private.der", b"K" * 2048, private=True)]
    errors = []

    def work():
        try:
            for _ in range(20):
                writer.sync_outputs(data, payload, manifest)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert (data / "ca.der").read_bytes() == b"A" * 4096
    assert sorted(p.name for p in data.iterdir()) == ["ca.der", "private.der"]

"""Writing safely: atomic, only when changed, 0600 keys, stale outputs removed, user files kept."""

import json
import os
import threading
import time

from espaws.identity import writer
from conftest import REPO, needs_file_modes
from espaws.identity.targets import Output


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


def test_one_manifest_per_folder_whatever_the_target(tmp_path):
    data, state = tmp_path / "data", tmp_path / "state"
    manifest = writer.manifest_path(state, data)
    writer.sync_outputs(data, [Output("ca.der", b"1"), Output("private.der", b"k", private=True)], manifest)
    results = writer.sync_outputs(data, [Output("ca.pem", b"2"), Output("private.pem", b"k", private=True)],
                                  writer.manifest_path(state, data))
    assert sorted(results) == [("ca.der", "removed"), ("ca.pem", "written"), ("private.der", "removed"),
                               ("private.pem", "written")]
    assert sorted(p.name for p in data.iterdir()) == ["ca.pem", "private.pem"]


def test_manifests_of_the_earlier_per_target_layout_are_read_then_dropped(tmp_path):
    data, state = tmp_path / "data", tmp_path / "state"
    data.mkdir()
    (data / "cert.der").write_bytes(b"old esp8266 output")
    manifest = writer.manifest_path(state, data)
    state.mkdir()
    legacy = state / manifest.name.replace("outputs-", "outputs-esp8266-")
    legacy.write_text(json.dumps(["cert.der"]))
    writer.sync_outputs(data, [Output("cert.pem", b"new")], manifest)
    assert sorted(p.name for p in data.iterdir()) == ["cert.pem"]
    assert not legacy.exists()


def test_held_lock_keeps_other_processes_out_until_exit(tmp_path):
    import subprocess
    import sys
    import textwrap
    manifest = tmp_path / "state" / "m.json"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO / 'extra_scripts')!r})
        from espaws.identity import writer
        writer.hold_until_exit({str(manifest)!r})
        with writer.locked({str(manifest)!r}):  # re-entrant for the holder
            pass
        print("held", flush=True)
        time.sleep(1.0)
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    with writer.locked(manifest):
        waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert waited > 0.5, "the lock was not held until the holder exited"


def test_hold_says_when_it_waits(tmp_path):
    import subprocess
    import sys
    import textwrap
    manifest = tmp_path / "state" / "m.json"
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO / 'extra_scripts')!r})
        from espaws.identity import writer
        writer.hold_until_exit({str(manifest)!r}, on_wait=lambda: print("waiting", flush=True))
        print("held", flush=True)
        time.sleep(float(sys.argv[1]))
    """)
    first = subprocess.Popen([sys.executable, "-c", code, "1.0"], stdout=subprocess.PIPE, text=True)
    assert first.stdout.readline().strip() == "held"
    second = subprocess.run([sys.executable, "-c", code, "0"], capture_output=True, text=True, timeout=20)
    first.wait(timeout=10)
    assert second.stdout.split() == ["waiting", "held"]


def test_symlinked_output_is_replaced_and_its_target_untouched(tmp_path):
    outside = tmp_path / "outside.der"
    outside.write_bytes(b"key")
    os.chmod(outside, 0o644)
    data = tmp_path / "data"
    data.mkdir()
    (data / "private.der").symlink_to(outside)
    assert writer.write_if_changed(data / "private.der", b"key", private=True)
    assert not (data / "private.der").is_symlink()
    assert outside.stat().st_mode & 0o777 == 0o644


def test_gitignore_written_updated_and_users_own_kept(tmp_path):
    assert writer.ensure_gitignore(tmp_path, ["a.der"])
    text = (tmp_path / ".gitignore").read_text()
    assert text.startswith(writer.GITIGNORE_HEADER) and ".gitignore\na.der\n" in text
    assert not writer.ensure_gitignore(tmp_path, ["a.der"])
    assert writer.ensure_gitignore(tmp_path, ["a.der", "b.pem"])
    (tmp_path / ".gitignore").write_text("# mine\n")
    assert not writer.ensure_gitignore(tmp_path, ["a.der"])
    assert (tmp_path / ".gitignore").read_text() == "# mine\n"

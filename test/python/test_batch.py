"""The `batch` verb: many device folders in one run, over worker processes, same bytes as `prepare`."""

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, assert_mode, clean_environ, run_cli, snapshot
from pkitools import Identity, key_pem

from espaws.fleet import batch


def write_devices(root, count=5, kinds=("ec", "rsa2048")):
    """count good devices, RSA and EC, every third one without its own CA (Amazon's roots then)."""
    for index in range(count):
        Identity(kind=kinds[index % len(kinds)]).write_aws_style(
            Path(root) / f"thing-{index:02d}", prefix=f"{index:02d}abcdef", with_ca=index % 3 != 0)
    return Path(root)


def write_mismatched_device(folder):
    """A device whose key belongs to another certificate."""
    Identity().write_aws_style(folder, prefix="bad")
    (Path(folder) / "bad-private.pem.key").write_bytes(key_pem(Identity().key, "traditional"))


def prepare_each(devices, out, target):
    """What `prepare` writes for every device folder, one CLI run each."""
    for device in sorted(p for p in devices.iterdir() if p.is_dir()):
        result = run_cli("prepare", "--project-dir", device.parent, "--certs-dir", device.name,
                         "--data-dir", out / device.name, "--target", target)
        assert result.returncode == 0, result.stderr


def device_files(folder):
    """snapshot() of the device folders only (the state folder's lock files are touched per run)."""
    return {name: entry for name, entry in snapshot(folder).items() if not name.startswith(batch.STATE_DIR_NAME)}


def contents(folder):
    """The board's files per device (prepare also writes a .gitignore beside them; batch does not)."""
    return {name: data for name, (data, _mtime, _mode) in device_files(folder).items()
            if not name.endswith(".gitignore")}


@pytest.mark.parametrize("target", ["esp8266", "esp32"])
def test_outputs_are_byte_identical_to_prepare(tmp_path, target):
    devices = write_devices(tmp_path / "devices")
    prepare_each(devices, tmp_path / "by-prepare", target)

    result = run_cli("batch", devices, "--out", tmp_path / "by-batch", "--target", target, "--jobs", "2")

    assert result.returncode == 0, result.stderr
    expected = contents(tmp_path / "by-prepare")
    assert expected and contents(tmp_path / "by-batch") == expected
    names = {"esp8266": ["ca.der", "cert.der", "private.der"], "esp32": ["ca.pem", "cert.pem", "private.pem"]}
    amazon = ["ca_2.der"] if target == "esp8266" else []  # thing-00 has no CA: Amazon Root CA 1 and 3
    assert sorted(p.name for p in (tmp_path / "by-batch" / "thing-00").iterdir()) == sorted(names[target] + amazon)
    assert sorted(p.name for p in (tmp_path / "by-batch" / "thing-01").iterdir()) == names[target]
    key = next((tmp_path / "by-batch" / "thing-01").glob("private.*"))
    assert_mode(key, 0o600)


def test_key_format_is_passed_through(tmp_path):
    devices = write_devices(tmp_path / "devices", count=2)
    for device in devices.iterdir():
        result = run_cli("prepare", "--project-dir", devices, "--certs-dir", device.name, "--data-dir",
                         tmp_path / "by-prepare" / device.name, "--key-format", "traditional")
        assert result.returncode == 0, result.stderr

    result = run_cli("batch", devices, "--out", tmp_path / "by-batch", "--key-format", "traditional")

    assert result.returncode == 0, result.stderr
    assert contents(tmp_path / "by-batch") == contents(tmp_path / "by-prepare")


def test_a_failing_device_is_reported_in_one_line_and_the_others_go_on(tmp_path):
    devices = write_devices(tmp_path / "devices", count=4)
    write_mismatched_device(devices / "thing-bad")
    (devices / "README.txt").write_text("not a device\n")  # files beside the folders are not devices

    result = run_cli("batch", devices, "--out", tmp_path / "out", "--jobs", "2")

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: thing-bad: ") and "matches this private key" in errors[0]
    assert "4 ok, 1 failed of 5 devices" in result.stdout
    assert not (tmp_path / "out" / "thing-bad").exists()
    for index in range(4):
        assert (tmp_path / "out" / f"thing-{index:02d}" / "cert.der").is_file()


def test_second_run_changes_nothing_and_jobs_do_not_change_the_bytes(tmp_path):
    devices = write_devices(tmp_path / "devices", count=6)
    assert run_cli("batch", devices, "--out", tmp_path / "one", "--jobs", "1").returncode == 0
    first = device_files(tmp_path / "one")

    again = run_cli("batch", devices, "--out", tmp_path / "one", "--jobs", "2")

    assert again.returncode == 0, again.stderr
    assert device_files(tmp_path / "one") == first  # same bytes, same mtimes: nothing rewritten
    assert "0 files written or removed" in again.stdout
    assert run_cli("batch", devices, "--out", tmp_path / "two", "--jobs", "2").returncode == 0
    assert contents(tmp_path / "two") == contents(tmp_path / "one")


def test_amazon_roots_are_read_once_per_worker_not_per_device(tmp_path, monkeypatch):
    # Every device lacks a CA, so each needs Amazon's roots. The workers are spawned, fresh
    # interpreters: an audit hook in each (through sitecustomize) logs every open of the bundle.
    devices = tmp_path / "devices"
    for index in range(6):
        Identity().write_aws_style(devices / f"thing-{index}", with_ca=False)
    calls, hook = tmp_path / "calls", tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import sys\n"
        "def _log(event, args):\n"
        "    if event == 'open' and str(args[0]).endswith('cacert.pem'):\n"
        f"        with open({str(calls)!r}, 'a') as log: log.write('load\\n')\n"
        "sys.addaudithook(_log)\n")
    monkeypatch.setenv("PYTHONPATH", str(hook))
    jobs = batch.make_jobs(batch.device_folders(devices), tmp_path / "out", "esp8266", "pkcs8", {})

    results = batch.run(jobs, workers=2)

    assert [r.ok for r in results] == [True] * 6, [r.problems for r in results]
    # At most one per worker (a worker still starting when the other has done all six is ended
    # before it reads), never one per device.
    assert 1 <= calls.read_text().count("load") <= 2


def test_workers_are_spawned_not_forked(tmp_path, monkeypatch):
    import multiprocessing
    used = []
    real = multiprocessing.get_context
    monkeypatch.setattr(multiprocessing, "get_context", lambda method=None: used.append(method) or real(method))
    devices = write_devices(tmp_path / "devices", count=2)
    jobs = batch.make_jobs(batch.device_folders(devices), tmp_path / "out", "esp8266", "pkcs8", {})
    assert all(r.ok for r in batch.run(jobs, workers=2))
    assert used == ["spawn"]


@pytest.mark.parametrize("names, expected", [
    (["CON", "dev-1"], "CON: CON is a name Windows reserves for a device, with any extension"),
    (["nul.txt"], "nul.txt: NUL is a name Windows reserves"),
    (["com7.backup"], "com7.backup: COM7 is a name Windows reserves"),
    (["Dev1", "dev1"], "Dev1 and dev1: one folder where case is ignored (Windows, macOS)"),
    (["kitchen."], "kitchen.: Windows drops a final dot or space"),
    (["a:b"], "a:b: Windows does not allow ':' in a name"),
])
def test_device_names_windows_cannot_hold_stop_the_batch_before_writing(tmp_path, names, expected):
    devices = tmp_path / "devices"
    try:
        for name in names:
            Identity().write_aws_style(devices / name)
    except OSError as error:
        pytest.skip(f"this file system cannot hold the names {names} ({error}): the check is for systems that can")
    if len(list(devices.iterdir())) != len(names):
        pytest.skip(f"this file system ignores case: {names} are one folder here")
    out = tmp_path / "out"
    result = run_cli("batch", devices, "--out", out)
    assert result.returncode == 1
    assert f"error: {expected}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()  # nothing written, nothing overwritten


def test_names_windows_accepts_pass(tmp_path):
    from espaws.fleet.batch import name_problems
    assert name_problems(["console", "CON-1", "nullable", "COM10", "LPT0", "dev1", "Dev2", "José"]) == []


def test_no_device_folder_is_an_error(tmp_path):
    (tmp_path / "devices").mkdir()
    result = run_cli("batch", tmp_path / "devices", "--out", tmp_path / "out")
    assert result.returncode == 1
    assert "no device subfolders" in result.stderr


def test_out_is_required(tmp_path):
    result = run_cli("batch", tmp_path)
    assert result.returncode == 2
    assert "--out" in result.stderr


def test_importing_the_verb_does_not_import_cryptography():
    code = ("import argparse, sys; sys.path.insert(0, sys.argv[1]); import espaws.fleet.batch as b; "
            "b.add_arguments(argparse.ArgumentParser()); print('cryptography' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(REPO / "extra_scripts")], capture_output=True,
                          text=True, env=clean_environ(), check=True)
    assert done.stdout.strip() == "False"


def test_default_workers_use_every_core_once_a_worker_pays_its_start():
    per = batch.DEVICES_PER_WORKER
    assert batch.default_workers(5, 8) == 1
    assert batch.default_workers(per * 2, 8) == 2
    assert batch.default_workers(per * 100, 8) == 8
    assert batch.default_workers(0, 8) == 1


def test_thing_name_comes_from_each_device_folder(tmp_path):
    devices = write_devices(tmp_path / "devices", count=3)
    (devices / "thing-00" / "thing.txt").write_bytes(b"kitchen-00\r\n")  # as Notepad saves it
    (devices / "thing-01" / "thing.txt").write_bytes(b"hall_01")
    out = tmp_path / "out"
    result = run_cli("batch", devices, "--out", out, "--jobs", "2", env={"AWS_IOT_THING_NAME": "one-for-all"})
    assert result.returncode == 0, result.stderr
    assert (out / "thing-00" / "thing.txt").read_bytes() == b"kitchen-00"
    assert (out / "thing-01" / "thing.txt").read_bytes() == b"hall_01"
    assert not (out / "thing-02" / "thing.txt").exists()  # no file: the folder name is not used
    assert "warning: AWS_IOT_THING_NAME is not used by batch" in result.stderr
    assert "thing.txt: ignored" not in result.stderr  # thing.txt is read, not skipped as a stray file
    # Removed with the device's thing.txt; a bad one fails that device alone, in one line.
    (devices / "thing-00" / "thing.txt").unlink()
    (devices / "thing-01" / "thing.txt").write_text("hall 01\nsecond line\n")
    before = contents(out)
    result = run_cli("batch", "devices", "--out", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert not (out / "thing-00" / "thing.txt").exists()
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: thing-01: devices/thing-01/thing.txt: holds more than one line: write only the thing "
                      "name into it"]
    assert contents(out)["thing-01/thing.txt"] == before["thing-01/thing.txt"]

"""Writing outputs safely: atomic, only when changed, private files 0600, and
removal of exactly the files this plugin wrote before and no longer produces.

What the plugin wrote is kept in a small manifest per (output folder, target),
outside the folder itself so that it never lands in the filesystem image.
A file lock (filelock: msvcrt on Windows, fcntl elsewhere) serialises two builds
(two envs, or two terminals) on one folder.

File modes: where the system has them (Linux, macOS) a private file is 0600 from its
creation on. Windows has no such modes (os.chmod only sets the read-only flag): there
the user profile folder's access list is what keeps a key from other accounts.
"""

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644
# False on Windows: there modes are not what protects a file, so there is nothing to repair.
HAS_FILE_MODES = os.name == "posix"


def write_if_changed(path, data, private=False, durable=True):
    """Atomically replace `path` with `data` unless it already holds exactly that.

    Returns True when the file was written. Unchanged files keep their mtime, so
    nothing downstream rebuilds. `durable` fsyncs the bytes before the rename: needed
    for what cannot be made again (a CA key), not for outputs derived from certs/.
    """
    path = Path(path)
    mode = PRIVATE_MODE if private else PUBLIC_MODE
    if _holds(path, data):
        if private and HAS_FILE_MODES and (path.stat().st_mode & 0o777) != mode:
            os.chmod(path, mode)
        return False
    # mkstemp creates the file 0600 (O_EXCL, on every system): a key is never readable by
    # others, not even before its first byte. Public files are opened up before writing.
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FileNotFoundError:  # first write into a new folder
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if not private and HAS_FILE_MODES:
            os.chmod(temp, PUBLIC_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return True


def _holds(path, data):
    """True when the file at `path` has exactly `data`; a size check spares most reads."""
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except FileNotFoundError:
        return False


def manifest_path(state_dir, output_dir, target):
    key = hashlib.sha256(str(Path(output_dir).resolve()).encode()).hexdigest()[:12]
    return Path(state_dir) / f"outputs-{target}-{key}.json"


@contextlib.contextmanager
def locked(path):
    """Hold `path`.lock for the block: one build at a time on one output folder."""
    from filelock import FileLock  # a run-time requirement (requirements.txt)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_suffix(".lock"))):
        yield


def sync_outputs(output_dir, outputs, manifest):
    """Write `outputs` ([targets.Output]) into output_dir; returns [(name, action)].

    action is "written", "unchanged" or "removed". No fsync: every output is derived from
    certs/ and compared byte for byte on the next run, so a file a crash left short is simply
    written again (and an fsync per file made a batch of devices three times slower).
    """
    output_dir = Path(output_dir)
    results = []
    with locked(manifest):
        previous = _read_manifest(manifest)
        for output in outputs:
            written = write_if_changed(output_dir / output.name, output.data, output.private, durable=False)
            results.append((output.name, "written" if written else "unchanged"))
        current = sorted(o.name for o in outputs)
        for stale in sorted(set(previous) - set(current)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(output_dir / stale)
                results.append((stale, "removed"))
        write_if_changed(manifest, (json.dumps(current, indent=1) + "\n").encode(), durable=False)
    return results


def _read_manifest(path):
    try:
        names = json.loads(Path(path).read_text())
    except (FileNotFoundError, ValueError):
        return []
    # Only plain names: a damaged manifest must never make us delete outside the folder.
    return [n for n in names if isinstance(n, str) and n == os.path.basename(n) and n not in ("", ".", "..")]

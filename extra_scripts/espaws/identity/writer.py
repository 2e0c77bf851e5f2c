"""Writing outputs safely: atomic, only when changed, private files 0600, and
removal of exactly the files this plugin wrote before and no longer produces.

What the plugin wrote is kept in a small manifest per output folder (whatever the
target), outside the folder itself so that it never lands in the filesystem image:
preparing one env removes the files another env wrote there, so an image packed
right after holds only its own env's identity. A file lock per folder serialises
two builds (two envs, or two terminals) on it (filelock: msvcrt on Windows, fcntl
elsewhere); a build that packs an image keeps the lock until it ends
(`hold_until_exit`), so no other build rewrites the folder between its prepare step
and its image.

File modes: where the system has them (Linux, macOS) a private file is 0600 from its
creation on. Windows has no such modes (os.chmod only sets the read-only flag): there
the user profile folder's access list is what keeps a key from other accounts.
"""

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644
# False on Windows: there modes are not what protects a file, so there is nothing to repair.
HAS_FILE_MODES = os.name == "posix"

GITIGNORE = ".gitignore"
GITIGNORE_HEADER = "# Written by the aws_iot plugin: the board's identity files (a private key) stay out of git."

_held_locks = {}  # lock path -> open file: locks this process keeps until it exits


def write_if_changed(path, data, private=False, durable=True):
    """Atomically replace `path` with `data` unless it already holds exactly that.

    Returns True when the file was written. Unchanged files keep their mtime, so
    nothing downstream rebuilds. `durable` fsyncs the bytes before the rename: needed
    for what cannot be made again (a CA key), not for outputs derived from certs/.
    """
    path = Path(path)
    mode = PRIVATE_MODE if private else PUBLIC_MODE
    # A symbolic link is replaced, never written or chmodded through: its target is outside our care.
    if not path.is_symlink() and _holds(path, data):
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


def manifest_path(state_dir, output_dir):
    """The manifest of what the plugin owns in output_dir: one per folder, whatever the target."""
    key = hashlib.sha256(str(Path(output_dir).resolve()).encode()).hexdigest()[:12]
    return Path(state_dir) / f"outputs-{key}.json"


def _legacy_manifests(manifest):
    """Manifests of earlier versions, one per (folder, target): outputs-<target>-<key>.json."""
    prefix, _, key = Path(manifest).stem.partition("-")
    if prefix != "outputs" or not key or "-" in key:
        return []
    return sorted(Path(manifest).parent.glob(f"outputs-*-{key}.json"))


def _lock_path(path):
    return Path(path).with_suffix(".lock")


@contextlib.contextmanager
def locked(path):
    lock_path = _lock_path(path)
    if lock_path in _held_locks:  # this process already holds it until it exits
        yield
        return
    from filelock import FileLock  # a run-time requirement (requirements.txt)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path)):
        yield


def hold_until_exit(path, on_wait=None):
    """Take the lock of `path` (as `locked` does) and keep it until this process ends.

    For a build that packs the output folder into an image after preparing it: another
    build waits until this one has packed (and uploaded). The OS drops the lock at exit.
    `on_wait()` is called once when another process holds the lock, before waiting for it.
    """
    lock_path = _lock_path(path)
    if lock_path in _held_locks:
        return
    from filelock import FileLock, Timeout
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))  # held until the process ends, on purpose
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait:
            on_wait()
        lock.acquire()
    _held_locks[lock_path] = lock


def sync_outputs(output_dir, outputs, manifest):
    """Write `outputs` ([targets.Output]) into output_dir; returns [(name, action)].

    action is "written", "unchanged" or "removed". No fsync: every output is derived from
    certs/ and compared byte for byte on the next run, so a file a crash left short is simply
    written again (and an fsync per file made a batch of devices three times slower).
    """
    output_dir = Path(output_dir)
    results = []
    with locked(manifest):
        legacy = _legacy_manifests(manifest)
        previous = set(_read_manifest(manifest)).union(*(_read_manifest(m) for m in legacy))
        _check_writable(output_dir, outputs)
        for output in outputs:
            written = write_if_changed(output_dir / output.name, output.data, output.private, durable=False)
            results.append((output.name, "written" if written else "unchanged"))
        current = sorted(o.name for o in outputs)
        for stale in sorted(set(previous) - set(current)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(output_dir / stale)
                results.append((stale, "removed"))
        write_if_changed(manifest, (json.dumps(current, indent=1) + "\n").encode(), durable=False)
        for old in legacy:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(old)
    return results


def _check_writable(output_dir, outputs):
    """Raise OSError before anything is written when an output cannot be a plain file there."""
    if output_dir.exists() and not output_dir.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(output_dir))
    for output in outputs:
        path = output_dir / output.name
        if path.is_dir() and not path.is_symlink():
            raise IsADirectoryError(errno.EISDIR, "a folder stands where a file is written", str(path))


def ensure_gitignore(output_dir, patterns):
    """Keep the plugin's outputs in output_dir out of git, with no edit of the user's .gitignore.

    Writes output_dir/.gitignore listing `patterns` and itself, unless the user has a
    .gitignore of their own there (then it is theirs to keep; `check` reports tracked
    outputs). mklittlefs and mkspiffs leave .gitignore out of the image. Returns True when written.
    """
    path = Path(output_dir) / GITIGNORE
    try:
        existing = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        existing = None
    except IsADirectoryError:
        return False
    if existing is not None and not existing.startswith(GITIGNORE_HEADER):
        return False
    text = "\n".join([GITIGNORE_HEADER, "# mklittlefs leaves this file out of the filesystem image.",
                      GITIGNORE, *patterns]) + "\n"
    return write_if_changed(path, text.encode(), durable=False)


def _read_manifest(path):
    try:
        names = json.loads(Path(path).read_text())
    except (FileNotFoundError, ValueError):
        return []
    # Only plain names: a damaged manifest must never make us delete outside the folder.
    return [n for n in names if isinstance(n, str) and n == os.path.basename(n) and n not in ("", ".", "..")]

"""What differs between Windows, macOS and Linux, as small pure functions.

- File names: Windows reserves CON, PRN, AUX, NUL, COM1-9 and LPT1-9 (with any
  extension), refuses <>:"/\\|?* and names ending in a dot or a space, and, like
  macOS by default, compares names without regard to case.
- Option paths: `custom_aws_iot_*` values and AWS_IOT_* variables written on Windows
  (`C:\\certs`, `certs\\dev`) and read on another system.
"""

import ntpath
import posixpath
import re

RESERVED_STEMS = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                            *(f"LPT{i}" for i in range(1, 10))})
FORBIDDEN_CHARACTERS = '<>:"/\\|?*'
_DRIVE = re.compile(r"^[A-Za-z]:")


def windows_name_problem(name):
    """Why Windows cannot have a file or folder called `name` ("" when it can)."""
    stem = name.split(".", 1)[0].rstrip(" ")
    if stem.upper() in RESERVED_STEMS:
        return f"{stem.upper()} is a name Windows reserves for a device, with any extension"
    bad = sorted({c for c in name if c in FORBIDDEN_CHARACTERS or ord(c) < 32})
    if bad:
        return "Windows does not allow " + " ".join(ascii(c) for c in bad) + " in a name"
    if name.endswith((".", " ")):
        return "Windows drops a final dot or space from a name"
    return ""


def case_collisions(names):
    """[(name, name, ...)] of names that are one name where case is ignored (Windows, macOS)."""
    groups = {}
    for name in names:
        groups.setdefault(name.casefold(), []).append(name)
    return [tuple(sorted(group)) for _, group in sorted(groups.items()) if len(group) > 1]


def option_path(project_dir, value, os_name):
    """Where an option's folder `value` is for a project in `project_dir`, as a string.

    os_name is os.name ("nt" or "posix"): on Windows, ntpath rules (drive letters,
    either slash); elsewhere a backslash written on Windows (`certs\\dev`) is a folder
    separator too, since no one names a certificate folder with one, and a drive letter
    cannot be honoured: ValueError says so.
    """
    if os_name == "nt":
        return ntpath.normpath(ntpath.join(project_dir, value))
    if _DRIVE.match(value):
        raise ValueError(f"{value!r} is a Windows path (drive {value[:2]}) and this system has no "
                         "drives: give a folder relative to the project, or a path of this system")
    return posixpath.normpath(posixpath.join(project_dir, value.replace("\\", "/")))


def printable(text, stream):
    """`text` as `stream` can write it: what its encoding (a Windows code page) lacks becomes \\xNN."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        return text


def tolerate_unencodable_output(streams):
    """Make text streams write what their encoding lacks as \\xNN instead of failing.

    A console or pipe on Windows encodes with its code page (cp1252, cp437), strictly;
    paths and file names come from the user and may hold any character.
    """
    for stream in streams:
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")

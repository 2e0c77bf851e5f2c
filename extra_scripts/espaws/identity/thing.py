"""The per-device thing name: `thing.txt` on the board's filesystem.

The device client uses it as its MQTT client id, before AWS_IOT_THING_NAME compiled into
secrets.h and before its MAC-derived default, so one firmware serves every device and the
name travels with the device's image, like its certificate.

Format: the thing name in UTF-8 bytes and nothing else (no newline written; a reader
tolerates one trailing "\\n" or "\\r\\n"), 1 to 128 bytes of [a-zA-Z0-9:_-] (AWS IoT's
thing name characters; the client id limit is 128 bytes).

Where the name comes from: a `thing.txt` in the certs folder (each device folder of
`batch`), else AWS_IOT_THING_NAME (the environment or .env) for `prepare`. Neither: no file,
and a thing.txt written before is removed.
"""

import re

from .targets import Output

FILE_NAME = "thing.txt"
SETTING = "AWS_IOT_THING_NAME"
MAX_BYTES = 128
_BAD_CHARACTER = re.compile(r"[^A-Za-z0-9:_-]")
_BOM = b"\xef\xbb\xbf"


def problem(name):
    """Why `name` cannot be a thing name, or None. Names the offending character, not the name."""
    if not name:
        return "the thing name is empty"
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > MAX_BYTES:
        return f"the thing name is {size} bytes, AWS IoT allows at most {MAX_BYTES}: use a shorter name"
    bad = _BAD_CHARACTER.search(name)
    if bad:
        return (f"the thing name may only hold letters, digits, ':', '_' and '-' (found {bad.group()!r} at "
                f"position {bad.start() + 1}): use the thing's name as AWS IoT shows it")
    return None


def from_file(data):
    """(name, problem) from the bytes of a thing.txt: a BOM and one trailing line end are tolerated."""
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    for ending in (b"\r\n", b"\n"):
        if data.endswith(ending):
            data = data[:-len(ending)]
            break
    try:
        name = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8 text: write only the thing name into it"
    if "\n" in name or "\r" in name:
        return None, "holds more than one line: write only the thing name into it"
    return name, problem(name)


def resolve(certs_dir, shown_certs_dir, settings):
    """(name or None, where it came from, [problems]) for one device."""
    path = certs_dir / FILE_NAME
    shown = f"{shown_certs_dir.rstrip('/')}/{FILE_NAME}"
    from_setting = settings.get(SETTING) or None  # set but empty counts as unset, as on the device
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        if from_setting is None:
            return None, None, []
        trouble = problem(from_setting)
        return from_setting, SETTING, [f"{SETTING}: {trouble}"] if trouble else []
    except OSError as error:  # a folder of that name, no permission
        return None, shown, [f"{shown}: cannot be read ({error.strerror}): make it a file holding the thing name"]
    name, trouble = from_file(data)
    if trouble:
        return None, shown, [f"{shown}: {trouble}"]
    if from_setting is not None and from_setting != name:
        return None, shown, [f"{shown} and {SETTING} name different things: keep one of them"]
    return name, shown, []


def output(name):
    return Output(FILE_NAME, name.encode("utf-8"))

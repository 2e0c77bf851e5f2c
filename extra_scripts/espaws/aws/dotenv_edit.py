"""Set a few variables in a .env file, keeping every other byte as it was.

A BOM, CRLF line ends, comments, quoting and the order of other lines all stay. A variable
already present (also as `export NAME=...`) has its line(s) replaced in place; a new one is
appended with the file's own line end.
"""

import re

_BOM = b"\xef\xbb\xbf"
_ASSIGNMENT = re.compile(rb"^[ \t]*(export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=")
_SAFE_VALUE = re.compile(r"[A-Za-z0-9._:/@-]*")


def set_values(data, values):
    """`data` (the .env bytes, b"" when absent) with each NAME=value of `values` set."""
    bom = _BOM if data.startswith(_BOM) else b""
    body = data[len(bom):]
    newline = b"\r\n" if b"\r\n" in body else b"\n"
    lines = body.splitlines(keepends=True)
    pending = dict(values)
    for index, line in enumerate(lines):
        match = _ASSIGNMENT.match(line)
        if not match:
            continue
        name = match.group(2).decode("ascii")
        if name in values:
            ending = line[len(line.rstrip(b"\r\n")):] or b""
            lines[index] = (match.group(1) or b"") + _assignment(name, values[name]) + ending
            pending.pop(name, None)
    if pending and lines and not lines[-1].endswith((b"\n", b"\r")):
        lines[-1] += newline
    lines += [_assignment(name, value) + newline for name, value in pending.items()]
    return bom + b"".join(lines)


def _assignment(name, value):
    if not _SAFE_VALUE.fullmatch(value):  # endpoints and thing names never need this
        value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name}={value}".encode("utf-8")

"""Set a few variables in a .env file, keeping every other byte as it was.

A BOM, CRLF line ends, comments, quoting and the order of other lines all stay. The file is
split by python-dotenv's own parser, the one that reads it for the build, so an assignment is
what the build sees as one: a quoted value over several lines is replaced whole, and a line
inside another variable's quoted value is never taken for an assignment. A variable already
present (also as `export NAME=...`) is replaced in place; a new one is appended with the
file's own line end.
"""

import io
import re

from dotenv.parser import parse_stream

from ..identity.writer import write_if_changed

_BOM = b"\xef\xbb\xbf"
_EXPORT = re.compile(r"[ \t]*(export[ \t]+)")
_SAFE_VALUE = re.compile(r"[A-Za-z0-9._:/@-]*")


def set_values(data, values):
    """`data` (the .env bytes, b"" when absent) with each NAME=value of `values` set."""
    bom = _BOM if data.startswith(_BOM) else b""
    text = data[len(bom):].decode("utf-8", "surrogateescape")  # bytes that are not UTF-8 come back as they were
    newline = "\r\n" if "\r\n" in text else "\n"
    pending = dict(values)
    parts = []
    for binding in parse_stream(io.StringIO(text)):  # the originals, joined, are the whole text
        original = binding.original.string
        if binding.key in values:
            export = _EXPORT.match(original)
            ending = original[len(original.rstrip("\r\n")):]
            original = (export.group(1) if export else "") + _assignment(binding.key, values[binding.key]) + ending
            pending.pop(binding.key, None)
        parts.append(original)
    if pending and parts and not parts[-1].endswith(("\n", "\r")):
        parts[-1] += newline
    parts += [_assignment(name, value) + newline for name, value in pending.items()]
    return bom + "".join(parts).encode("utf-8", "surrogateescape")


def _assignment(name, value):
    if not _SAFE_VALUE.fullmatch(value):  # endpoints and thing names never need this
        value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name}={value}"


def update_file(path, values, dry_run=False):
    """Set `values` in the .env file at `path` (made 0600 when new): "unchanged", "would change"
    (a dry run writes nothing) or "changed"."""
    data = path.read_bytes() if path.is_file() else b""
    updated = set_values(data, values)
    if updated == data:
        return "unchanged"
    if dry_run:
        return "would change"
    write_if_changed(path, updated, private=True)
    return "changed"

"""OUT/manifest.json: the record of a fleet run, one entry per device.

Deterministic: devices sorted by name, keys sorted, no timestamp, so the same inputs
give the same bytes and a diff shows what changed between two runs. Written atomically
(a temporary file renamed over the old one): a reader never sees half a manifest.
Private files are listed by name and size only: no digest of a key is recorded.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = 1
MANIFEST_NAME = "manifest.json"
OK, FAILED = "ok", "failed"


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    sha256: str = None  # None for private files

    def as_record(self):
        record = {"name": self.name, "size": self.size}
        if self.sha256:
            record["sha256"] = self.sha256
        return record


@dataclass(frozen=True)
class DeviceRecord:
    name: str
    status: str
    thing: str = None
    certificate_sha256: str = None  # also AWS IoT's certificate id
    files: tuple = ()
    image: str = None               # relative to OUT
    image_sha256: str = None
    problems: tuple = field(default=())

    def as_record(self):
        record = {"name": self.name, "status": self.status, "thing": self.thing,
                  "certificate_sha256": self.certificate_sha256,
                  "files": [f.as_record() for f in self.files],
                  "image": self.image, "image_sha256": self.image_sha256}
        if self.problems:
            record["problems"] = list(self.problems)
        return record


def render(records, target, geometry):
    """The manifest's text for [DeviceRecord]."""
    document = {
        "format": FORMAT,
        "target": target,
        "filesystem": geometry.as_record(),
        "devices": [r.as_record() for r in sorted(records, key=lambda r: r.name)],
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write(out_dir, text):
    """Write OUT/manifest.json atomically when it changed; returns its path."""
    from ..identity.writer import write_if_changed
    path = Path(out_dir) / MANIFEST_NAME
    write_if_changed(path, text.encode("utf-8"))
    return path


def load(out_dir):
    """The manifest document of OUT, or None when there is none or it is not JSON."""
    try:
        return json.loads((Path(out_dir) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def find_device(document, name):
    for entry in (document or {}).get("devices", []):
        if entry.get("name") == name:
            return entry
    return None

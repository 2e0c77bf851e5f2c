"""Where the filesystem sits on each board, and in what LittleFS geometry.

The real builders read it from the board's flash layout: ESP8266 from the linker
script's `_FS_start/_FS_end/_FS_page/_FS_block` (platform-espressif8266's
`_parse_ld_sizes`), ESP32 from the partition table CSV (the last data partition of
subtype spiffs, fat or littlefs; page 256, block 4096, as platform-espressif32's
`fetch_fs_size`). These parsers do the same; without a layout file the defaults are
PlatformIO's nodemcuv2 (eagle.flash.4m1m.ld) and esp32dev (default.csv).
Pure data and parsing: no littlefs, no esptool.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

# littlefs 2.5 with LFS_NAME_MAX 32, as the ESP8266 core 3.1.x mounts it (and what
# tool-mklittlefs 1.203 packs on both platforms); the ESP32's esp_littlefs reads it too.
DISK_VERSION = 0x00020000
NAME_MAX = 32

ESP32_FS_SUBTYPES = ("spiffs", "fat", "littlefs")
ESP32_PAGE, ESP32_BLOCK = 0x100, 0x1000
ESP32_TABLE_END = 0x9000  # the partition table sits at 0x8000 and takes one 0x1000 sector


@dataclass(frozen=True)
class Geometry:
    target: str
    offset: int       # flash address of the filesystem, as esptool counts it
    size: int         # bytes of the filesystem (= of the image)
    block_size: int
    page_size: int    # LittleFS read and prog size
    name_max: int = NAME_MAX
    disk_version: int = DISK_VERSION
    source: str = "default"

    @property
    def block_count(self):
        return self.size // self.block_size

    def as_record(self):
        """The geometry as the manifest records it (plain JSON types)."""
        return {"offset": hex(self.offset), "size": self.size, "block_size": self.block_size,
                "page_size": self.page_size, "name_max": self.name_max,
                "disk_version": f"{self.disk_version >> 16}.{self.disk_version & 0xFFFF}", "source": self.source}


DEFAULTS = {
    "esp8266": Geometry("esp8266", offset=0x300000, size=1_024_000, block_size=8192, page_size=256,
                        source="nodemcuv2 eagle.flash.4m1m.ld (default)"),
    "esp32": Geometry("esp32", offset=0x290000, size=0x160000, block_size=ESP32_BLOCK, page_size=ESP32_PAGE,
                      source="esp32dev default.csv (default)"),
}


@dataclass(frozen=True)
class Partition:
    name: str
    type: str
    subtype: str
    offset: int
    size: int


def parse_size(value):
    """A size as the builders read it: "1234", "0x1000", "4K", "1M"."""
    text = str(value).strip()
    try:
        if text.lower().startswith("0x"):
            return int(text, 16)
        if text[-1:].upper() in ("K", "M"):
            return int(text[:-1], 0) * (1024 if text[-1].upper() == "K" else 1024 * 1024)
        return int(text)
    except ValueError:
        raise ValueError(f"cannot read size {text!r}") from None


def esp8266_flash_offset(address):
    """A linker-script address (0x402xxxxx...) as the flash offset esptool writes at (the builder's rule)."""
    if address < 0x40300000:
        return address & 0xFFFFF
    if address < 0x411FB000:
        return (address & 0xFFFFFF) - 0x200000
    return (address & 0xFFFFFF) + 0xE00000


_LD_FS = re.compile(r"PROVIDE\s*\(\s*_FS_(start|end|page|block)\s*=\s*(0x[\da-f]+)\s*\)", re.I)


def from_ld_script(text, source="linker script"):
    """The ESP8266 filesystem from a linker script's PROVIDE(_FS_...) lines."""
    values = {m.group(1).lower(): int(m.group(2), 16) for m in _LD_FS.finditer(text)}
    missing = [f"_FS_{k}" for k in ("start", "end", "page", "block") if k not in values]
    if missing:
        raise ValueError(f"{source}: no {', '.join(missing)} (a linker script with a filesystem, "
                         "such as eagle.flash.4m1m.ld, has PROVIDE ( _FS_start = 0x... ) lines)")
    start, end = esp8266_flash_offset(values["start"]), esp8266_flash_offset(values["end"])
    return _checked(Geometry("esp8266", offset=start, size=end - start, block_size=values["block"],
                             page_size=values["page"], source=source))


def parse_partitions(text, source="partition table"):
    """[Partition] of an ESP32 partition CSV; empty offsets follow the previous partition (4-byte
    aligned, 64 KB for apps), as platform-espressif32 computes them."""
    result = []
    next_offset = ESP32_TABLE_END
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split(",")]
        if len(cells) < 5:
            continue
        try:
            bound = 0x10000 if cells[1] in ("0", "app") else 4
            offset = parse_size(cells[3]) if cells[3] else (next_offset + bound - 1) & ~(bound - 1)
            size = parse_size(cells[4])
        except ValueError as error:
            raise ValueError(f"{source}, line {number}: {error}") from None
        result.append(Partition(cells[0], cells[1], cells[2], offset, size))
        next_offset = offset + size
    return result


def from_partitions(text, source="partition table"):
    """The ESP32 filesystem: the last data partition of subtype spiffs, fat or littlefs."""
    found = [p for p in parse_partitions(text, source) if p.type == "data" and p.subtype in ESP32_FS_SUBTYPES]
    if not found:
        raise ValueError(f"{source}: no data partition of subtype {', '.join(ESP32_FS_SUBTYPES)} "
                         "for the filesystem")
    fs = found[-1]
    return _checked(Geometry("esp32", offset=fs.offset, size=fs.size, block_size=ESP32_BLOCK,
                             page_size=ESP32_PAGE, source=source))


def _checked(geometry):
    if geometry.size <= 0 or geometry.block_size <= 0 or geometry.page_size <= 0:
        raise ValueError(f"{geometry.source}: empty filesystem (size {geometry.size})")
    if geometry.size % geometry.block_size or geometry.block_size % geometry.page_size:
        raise ValueError(f"{geometry.source}: filesystem size {geometry.size} is not a whole number of "
                         f"{geometry.block_size}-byte blocks of {geometry.page_size}-byte pages")
    return geometry


def for_target(target, layout_file=None):
    """The geometry of `target`: from a layout file (.ld for esp8266, .csv for esp32) or the default.

    Raises InputError naming the file and what to give instead.
    """
    if target not in DEFAULTS:
        raise InputError(f"unknown target {target!r}: use {' or '.join(DEFAULTS)}")
    if layout_file is None:
        return DEFAULTS[target]
    path = Path(layout_file)
    kind = "linker script (.ld)" if target == "esp8266" else "partition table (.csv)"
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise InputError(f"{path}: cannot read the {kind}: {error.strerror or error}") from None
    try:
        return from_ld_script(text, str(path)) if target == "esp8266" else from_partitions(text, str(path))
    except ValueError as error:
        raise InputError(f"{error}: give the {target} board's {kind}") from None

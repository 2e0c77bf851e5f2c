"""The command line's `flash` verb: one device's image onto one board with esptool.

    python3 extra_scripts/aws_iot.py flash OUT/<device> --target esp8266|esp32 --port PORT [--dry-run]
        [--app firmware.bin [--bootloader bootloader.bin --partitions partitions.bin
         --boot-app0 boot_app0.bin] [--merged-out FILE]]

The image and where it goes come from OUT/manifest.json, written by `batch --image`:
the device must be there with status ok, the image's sha256 must match the record and
the target must be the one it was made for, so a stale or foreign image is refused
before a board is touched. Flashing is two esptool runs: `write-flash` at the
filesystem offset, then `verify-flash`, which compares the board's flash with the file.
`--dry-run` prints those exact commands and runs nothing.

With --app (and for ESP32 the bootloader and partition table PlatformIO built), the
device also gets a merged full-flash image (esptool `merge-bin`) for gang programmers;
with --port too, that merged image is what is flashed, at 0x0.
esptool is imported by no module here: it runs as `python -m esptool`, the command a
user can copy, and its absence is one line naming the pip command.
"""

import hashlib
import os
import shlex
import subprocess
import sys
from pathlib import Path

from ..errors import InputError
from . import image, manifest

ESPTOOL_REQUIREMENT = "esptool>=5"
EXIT_OK, EXIT_FAILED = 0, 1
BAUD = {"esp8266": 115200, "esp32": 460800}  # upload.speed of nodemcuv2 / esp32dev
# Where the other parts of a full flash go (Arduino cores' defaults): ESP8266's firmware.bin
# starts with its boot loader at 0x0; ESP32's boot loader sits at 0x1000, the partition table
# at 0x8000, boot_app0.bin in otadata at 0xe000 and the app in app0 at 0x10000.
APP_OFFSET = {"esp8266": 0x0, "esp32": 0x10000}
ESP32_PARTS = (("bootloader", 0x1000), ("partitions", 0x8000), ("boot_app0", 0xE000))
MERGED_NAME = "merged.bin"
ESPTOOL_VERBS = {"merge": "merge-bin", "write": "write-flash", "verify": "verify-flash"}


def add_arguments(parser):
    from ..identity import targets
    parser.add_argument("device_dir", metavar="DEVICE_DIR", help="OUT_DIR/<device> of `batch --image`")
    parser.add_argument("--target", choices=targets.TARGETS, required=True, help="the board's chip")
    parser.add_argument("--port", help="serial port of the board (e.g. /dev/ttyUSB0, COM3)")
    parser.add_argument("--baud", type=int, help="serial speed (default: 115200 esp8266, 460800 esp32)")
    parser.add_argument("--dry-run", action="store_true", help="print the esptool commands, run nothing")
    parser.add_argument("--app", metavar="FILE", help="firmware.bin: also make a merged full-flash image")
    parser.add_argument("--app-offset", type=address, metavar="ADDR",
                        help="where the app goes (default 0x0 esp8266, 0x10000 esp32)")
    for name, offset in ESP32_PARTS:
        parser.add_argument(f"--{name.replace('_', '-')}", metavar="FILE",
                            help=f"esp32 merged image: {name}.bin (at {offset:#x})")
    parser.add_argument("--merged-out", metavar="FILE", help=f"merged image path (default DEVICE_DIR/{MERGED_NAME})")
    return parser


def address(text):
    """A flash address as esptool takes it: 0x10000 or 65536."""
    try:
        return int(text, 0)
    except ValueError:
        import argparse
        raise argparse.ArgumentTypeError(f"{text!r} is not an address (e.g. 0x10000)") from None


def esptool_base(python=None):
    return [python or sys.executable, "-m", "esptool"]


def write_commands(target, port, baud, offset, path, python=None):
    """[write-flash, verify-flash] esptool command lines for `path` at `offset`."""
    base = [*esptool_base(python), "--chip", target, "--port", port, "--baud", str(baud)]
    return [
        [*base, "--before", "default-reset", "--after", "no-reset", "write-flash", hex(offset), str(path)],
        [*base, "--before", "default-reset", "--after", "hard-reset", "verify-flash", hex(offset), str(path)],
    ]


def create_private(path):
    """An empty file only its owner may read, for esptool to write the merged image into: it holds
    the device's private key, as littlefs.bin does, and esptool's "wb" keeps the file's mode.
    (On Windows the mode is the read-only flag only; the profile folder's access list protects it.)"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        os.chmod(path, 0o600)  # before it is emptied: it may hold an earlier key
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))


def merge_command(target, parts, output, python=None):
    """esptool merge-bin of [(offset, path)] into `output`."""
    pairs = [item for offset, path in sorted(parts) for item in (hex(offset), str(path))]
    return [*esptool_base(python), "--chip", target, "merge-bin", "-o", str(output), *pairs]


def shown(command):
    return shlex.join(command) if sys.platform != "win32" else subprocess.list2cmdline(command)


def require_esptool():
    """Raise InputError with the pip command when esptool 5 or later is not installed."""
    from importlib import metadata
    try:
        major = int(metadata.version("esptool").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        major = 0
    if major < 5:
        raise InputError(f"esptool 5 or later is needed: run `{sys.executable} -m pip install "
                         f"'{ESPTOOL_REQUIREMENT}'`")


def load_device(device_dir, target):
    """(record, geometry record, image path) from the manifest beside device_dir; checks the image."""
    device_dir = Path(device_dir)
    document = manifest.load(device_dir.parent)
    if document is None:
        raise InputError(f"{device_dir.parent / manifest.MANIFEST_NAME}: not found or not JSON: make the images "
                         "with `batch DEVICES_DIR --out OUT_DIR --image`, then flash OUT_DIR/<device>")
    record = manifest.find_device(document, device_dir.name)
    if record is None:
        raise InputError(f"{device_dir.name}: not in {device_dir.parent / manifest.MANIFEST_NAME}: give a device "
                         "folder of that run")
    if record.get("status") != manifest.OK:
        problems = "; ".join(record.get("problems") or [])
        raise InputError(f"{device_dir.name}: failed in the batch run ({problems}): fix it and run batch again")
    if document.get("target") != target:
        raise InputError(f"{device_dir.name}: the image was made for {document.get('target')}, not {target}: "
                         f"use --target {document.get('target')} or make the images again")
    path = device_dir / image.IMAGE_NAME
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read the image ({error.strerror or error}): run batch --image again") \
            from None
    filesystem = document.get("filesystem") or {}
    if len(data) != filesystem.get("size") or hashlib.sha256(data).hexdigest() != record.get("image_sha256"):
        raise InputError(f"{path}: not the image the manifest records (changed since the batch run): run "
                         "batch --image again")
    return record, filesystem, path


def merged_parts(args, fs_offset, image_path):
    """[(offset, path)] of a full flash; raises InputError when a part is missing."""
    parts = [(args.app_offset if args.app_offset is not None else APP_OFFSET[args.target], Path(args.app))]
    given = [f"--{n.replace('_', '-')}" for n, _ in ESP32_PARTS if getattr(args, n)]
    if args.target == "esp8266" and given:
        raise InputError(f"{', '.join(given)}: only for esp32; an esp8266 firmware.bin holds its boot loader")
    if args.target == "esp32":
        missing = [f"--{n.replace('_', '-')}" for n, _ in ESP32_PARTS[:2] if not getattr(args, n)]
        if missing:
            raise InputError(f"an esp32 full-flash image needs {' and '.join(missing)} too (PlatformIO writes "
                             "bootloader.bin and partitions.bin to .pio/build/<env>/)")
        parts += [(offset, Path(getattr(args, name))) for name, offset in ESP32_PARTS if getattr(args, name)]
    parts.append((fs_offset, image_path))
    for _, path in parts:
        if not path.is_file():
            raise InputError(f"{path}: file not found")
    ordered = sorted(parts)
    for (start, path), (next_start, next_path) in zip(ordered, ordered[1:]):
        if start + path.stat().st_size > next_start:
            raise InputError(f"{path} ({path.stat().st_size:,} bytes at {start:#x}) runs into {next_path} at "
                             f"{next_start:#x}: check the offsets")
    return parts


def run_esptool(command):
    """(ok, last lines of output) of one esptool run."""
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", stdin=subprocess.DEVNULL)
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode == 0, lines[-3:]


def main(args, out=None, err=None):
    out, err = out or sys.stdout, err or sys.stderr
    record, filesystem, image_path = load_device(args.device_dir, args.target)
    fs_offset = int(filesystem["offset"], 16)
    if not args.port and not args.app:
        raise InputError("nothing to do: give --port PORT to flash the board, or --app firmware.bin for a "
                         "merged full-flash image")
    name = record["name"]
    commands = []
    to_flash, offset = image_path, fs_offset
    if args.app:
        merged = Path(args.merged_out) if args.merged_out else Path(args.device_dir) / MERGED_NAME
        commands.append(("merge", merge_command(args.target, merged_parts(args, fs_offset, image_path), merged)))
        to_flash, offset = merged, 0x0
    if args.port:
        baud = args.baud or BAUD[args.target]
        write, verify = write_commands(args.target, args.port, baud, offset, to_flash)
        commands += [("write", write), ("verify", verify)]
    if args.dry_run:
        for _, command in commands:
            print(shown(command), file=out)
        return EXIT_OK
    require_esptool()
    who = f"{name} (thing {record.get('thing') or '-'}, certificate {(record.get('certificate_sha256') or '')[:12]})"
    for step, command in commands:
        print(f"flash: {name}: esptool {ESPTOOL_VERBS[step]}...", file=out, flush=True)  # a board takes seconds
        if step == "merge":
            create_private(to_flash)
        ok, tail = run_esptool(command)
        if not ok:
            where = "" if step == "merge" else f" on {args.port}"
            print(f"error: {who}: esptool {ESPTOOL_VERBS[step]} failed{where}: {' / '.join(tail) or 'no output'}",
                  file=err)
            return EXIT_FAILED
    what = f"{Path(to_flash).name} ({Path(to_flash).stat().st_size:,} bytes) at {offset:#x}"
    if args.port:
        print(f"flash: {who}: {what} written and verified on {args.port}", file=out)
    else:
        print(f"flash: {who}: merged image {to_flash} (littlefs at {fs_offset:#x})", file=out)
    return EXIT_OK

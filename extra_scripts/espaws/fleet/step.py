"""What `batch --image` adds for one device, and the manifest at the end of the run.

`device_step` runs in a batch worker right after the device's files were prepared: it
packs exactly those files (the plan's outputs, in memory) into OUT/<device>/littlefs.bin
and returns the device's manifest record. `finish` runs once in the parent: it writes
OUT/manifest.json and removes the image of every device that failed this run, so a
stale image is never flashed by mistake.
"""

import contextlib
import hashlib
import os
from pathlib import Path

from ..errors import InputError
from ..identity import thing as thing_file
from . import geometry as geometry_mod
from . import image, manifest

def setup(devices, target, layout_file=None):
    """The run's geometry, once checks that need no device passed. Raises InputError."""
    image.require_littlefs()
    clash = [d for d in devices if Path(d).name == manifest.MANIFEST_NAME]
    if clash:
        raise InputError(f"{clash[0]}: a device folder named {manifest.MANIFEST_NAME} would take the place of "
                         f"OUT_DIR/{manifest.MANIFEST_NAME}: rename the folder")
    return geometry_mod.for_target(target, layout_file)


def device_step(job, plan, geometry):
    """Write the device's image; returns its manifest.DeviceRecord. Raises InputError."""
    from ..identity.writer import write_if_changed
    files = {o.name: o.data for o in plan.outputs}
    name = job.data_dir.name
    thing = None  # prepare has checked it: a bad thing.txt failed the device before this step
    if thing_file.FILE_NAME in files:
        thing, _ = thing_file.from_file(files[thing_file.FILE_NAME])
    data = image.build(files, geometry)
    write_if_changed(job.data_dir / image.IMAGE_NAME, data, private=True, durable=False)  # it holds the key
    entries = tuple(manifest.FileEntry(o.name, len(o.data), None if o.private else hashlib.sha256(o.data).hexdigest())
                    for o in sorted(plan.outputs, key=lambda o: o.name))
    return manifest.DeviceRecord(name=name, status=manifest.OK, thing=thing,
                                 certificate_sha256=plan.material.device.fingerprint.hex(), files=entries,
                                 image=f"{name}/{image.IMAGE_NAME}", image_sha256=hashlib.sha256(data).hexdigest())


def finish(out_dir, results, target, geometry):
    """Write OUT/manifest.json for batch's DeviceResults; drop failed devices' images. Returns the path."""
    records = []
    for result in results:
        if result.ok and result.record is not None:
            records.append(result.record)
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(Path(out_dir) / result.name / image.IMAGE_NAME)
        records.append(manifest.DeviceRecord(name=result.name, status=manifest.FAILED, problems=result.problems))
    return manifest.write(out_dir, manifest.render(records, target, geometry))

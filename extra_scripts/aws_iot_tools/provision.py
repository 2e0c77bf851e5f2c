"""One device's job: certs folder in, validated files for the board out.

`plan` reads and checks everything and writes nothing; `prepare` writes the
outputs only when `plan` found no error, so bad input leaves every existing
file as it was.
"""

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from . import amazon_roots, checks, pki, targets, writer
from .endpoint import parse as parse_endpoint
from .errors import InputError, NoIdentity
from .identity import thing
from .pki import Certificate

FILESYSTEMS = {"littlefs": "LittleFS", "spiffs": "SPIFFS"}


@dataclass
class Job:
    """Everything one prepare or check needs; paths are absolute."""
    project_dir: Path
    certs_dir: Path
    data_dir: Path
    state_dir: Path  # for the manifest of written outputs, outside data_dir
    target: str
    settings: dict  # from secrets.read_settings: endpoint, passphrase, ...
    key_format: str = "pkcs8"
    filesystem: str = None  # board_build.filesystem as configured ("" unset), None outside PlatformIO
    now: datetime.datetime = None

    def shown(self, path):
        """A path as the user knows it: relative to the project when inside it."""
        path = Path(path)
        try:
            return str(path.relative_to(self.project_dir)) or "."
        except ValueError:
            return str(path)


@dataclass
class Plan:
    outputs: list
    findings: checks.Findings
    material: pki.Material = None
    anchors: list = field(default_factory=list)


def plan(job):
    """Read, classify and check; raise InputError with every problem found."""
    findings = checks.Findings()
    if job.target not in targets.TARGETS:
        findings.errors.append(f"unknown target {job.target!r}: set custom_aws_iot_target (or --target) to "
                               f"{' or '.join(targets.TARGETS)}")
    if job.key_format not in targets.KEY_FORMATS:
        findings.errors.append(f"unknown key format {job.key_format!r}: set custom_aws_iot_key_format to "
                               f"{' or '.join(targets.KEY_FORMATS)}")
    findings.extend(check_filesystem(job.filesystem))
    endpoint = None
    if job.settings.get("AWS_IOT_ENDPOINT"):
        try:
            endpoint = parse_endpoint(job.settings["AWS_IOT_ENDPOINT"])
        except ValueError as error:
            findings.errors.append(str(error))
    thing_name, thing_source, thing_problems = thing.resolve(job.certs_dir, job.shown(job.certs_dir), job.settings)
    findings.errors += thing_problems
    try:
        material = pki.load_folder(job.certs_dir, job.shown(job.certs_dir),
                                   job.settings.get("AWS_IOT_KEY_PASSPHRASE"), skip=(thing.FILE_NAME,))
    except NoIdentity as error:
        if findings.errors:  # other mistakes stay errors, even where an identity is optional
            raise InputError(findings.errors + error.problems) from None
        raise
    except InputError as error:
        raise InputError(findings.errors + error.problems) from None
    findings.infos += material.notes
    anchors, anchor_note = trust_anchors(material)
    findings.infos.append(anchor_note)
    if len(anchors) > targets.MAX_ANCHORS:
        findings.errors.append(f"{job.shown(job.certs_dir)}/: {len(anchors)} CA certificates, at most "
                               f"{targets.MAX_ANCHORS} are supported: keep the roots your endpoint needs")
    now = job.now or datetime.datetime.now(datetime.timezone.utc)
    findings.extend(checks.check_material(material, anchors, endpoint, now))
    if findings.errors:
        raise InputError(findings.errors)
    outputs = targets.render(job.target, material.device.cert, material.key.key,
                             [a.cert for a in anchors], job.key_format)
    if thing_name:
        outputs.append(thing.output(thing_name))
        findings.infos.append(f"thing name from {thing_source}: written to {thing.FILE_NAME}")
    return Plan(outputs=outputs, findings=findings, material=material, anchors=anchors)


def trust_anchors(material):
    """(anchors, note): the CAs from the certs folder, Amazon's roots first; else certifi's Amazon roots."""
    if material.cas:
        ordered = sorted(material.cas, key=lambda c: not amazon_roots.is_amazon_root(c.cert))
        return ordered, f"trust anchors for the server: {', '.join(c.source for c in ordered)}"
    try:
        roots = amazon_roots.load()
    except (OSError, LookupError) as error:
        raise InputError(f"no CA certificate in the certs folder and Amazon's roots are unavailable "
                         f"({error})") from None
    anchors = [Certificate(f"{label} (certifi)", cert) for label, cert in roots]
    return anchors, ("no CA certificate in the certs folder: using Amazon Root CA 1 and Amazon Root CA 3 "
                     "from the installed certifi bundle")


def check_filesystem(filesystem):
    findings = checks.Findings()
    if filesystem is None:
        return findings
    value = filesystem.strip().lower()
    if value == "littlefs":
        findings.infos.append("filesystem: LittleFS (board_build.filesystem = littlefs)")
    elif value == "spiffs":
        findings.warnings.append("filesystem: SPIFFS (board_build.filesystem = spiffs): the device client "
                                 "mounts LittleFS; set board_build.filesystem = littlefs")
    elif not value:
        findings.warnings.append("filesystem: SPIFFS, PlatformIO's default, since board_build.filesystem is "
                                 "not set: a LittleFS sketch cannot mount that image; add "
                                 "board_build.filesystem = littlefs to the env")
    else:
        findings.errors.append(f"board_build.filesystem = {filesystem}: the files must go on a LittleFS or "
                               "SPIFFS image; set board_build.filesystem = littlefs")
    return findings


def prepare(job):
    """plan, then write; returns (plan, [(name, action)])."""
    result = plan(job)
    manifest = writer.manifest_path(job.state_dir, job.data_dir, job.target)
    return result, writer.sync_outputs(job.data_dir, result.outputs, manifest)


def describe_outputs(job, results):
    changed = [f"{name} {action}" for name, action in results if action != "unchanged"]
    where = job.shown(job.data_dir)
    return f"{job.target} files in {where}/: " + (", ".join(changed) if changed else "all up to date")

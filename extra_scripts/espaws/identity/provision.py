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
from ..errors import InputError, NoIdentity
from . import thing
from .pki import Certificate


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
    packs_image: bool = False  # buildfs / uploadfs follow: the folder becomes the board's filesystem
    spiffs_ok: bool = False  # custom_aws_iot_spiffs: the user's firmware mounts SPIFFS
    gitignore: bool = True  # write data_dir/.gitignore so the key stays out of git (batch: its own call)
    now: datetime.datetime = None

    def shown(self, path):
        """A path as the user knows it: relative to the project when inside it."""
        path = Path(path)
        try:
            text = str(path.relative_to(self.project_dir)) or "."
        except ValueError:
            text = str(path)
        return pki.name_as_text(text)


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
    findings.extend(check_filesystem(job.filesystem, job.packs_image, job.spiffs_ok))
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
    anchors, anchor_note = trust_anchors(material, endpoint)
    findings.infos.append(anchor_note)
    if len(anchors) > targets.MAX_ANCHORS:
        findings.errors.append(f"{job.shown(job.certs_dir)}/: {len(anchors)} CA certificates, at most "
                               f"{targets.MAX_ANCHORS} are supported: keep the roots your endpoint needs")
    now = job.now or datetime.datetime.now(datetime.timezone.utc)
    findings.extend(checks.check_material(material, anchors, endpoint, now, job.target))
    if findings.errors:
        raise InputError(findings.errors)
    outputs = targets.render(job.target, material.device.cert, material.key.key,
                             [a.cert for a in anchors], job.key_format)
    if thing_name:
        outputs.append(thing.output(thing_name))
        findings.infos.append(f"thing name from {thing_source}: written to {thing.FILE_NAME}")
    return Plan(outputs=outputs, findings=findings, material=material, anchors=anchors)


def trust_anchors(material, endpoint=None):
    """(anchors, note): the CAs from the certs folder, Amazon's roots first; else certifi's Amazon roots.

    AWS's ATS endpoints chain to Amazon Root CA 1 or 3 depending on the cipher suite, so a
    folder holding only some of Amazon's roots (most tutorials download Root CA 1 alone) gets
    the others from certifi when the endpoint is an ATS one (or not set).
    """
    if material.cas:
        ordered = sorted(material.cas, key=lambda c: not amazon_roots.is_amazon_root(c.cert))
        note = f"trust anchors for the server: {', '.join(c.source for c in ordered)}"
        only_amazon = all(amazon_roots.is_amazon_root(c.cert) for c in ordered)
        if only_amazon and (endpoint is None or endpoint.kind == "aws-ats"):
            have = {c.subject for c in ordered}
            try:
                added = [Certificate(f"{label} (certifi)", cert) for label, cert in _certifi_roots()
                         if cert.subject.rfc4514_string() not in have]
            except InputError as error:  # the folder's own roots still work for half the cipher suites
                return ordered, f"{note} ({error.problems[0]})"
            if added:
                ordered += added
                note += (f", plus {', '.join(a.source for a in added)}: AWS IoT's ATS endpoints chain to "
                         "Amazon Root CA 1 or 3 depending on the cipher suite, so the board gets both")
        return ordered, note
    anchors = [Certificate(f"{label} (certifi)", cert) for label, cert in _certifi_roots()]
    skipped = [f"{source} is {_IGNORED_KINDS[label]}" for source, label in material.ignored
               if label in _IGNORED_KINDS]
    why = f" ({'; '.join(skipped)}, not a CA certificate)" if skipped else ""
    return anchors, (f"no CA certificate in the certs folder{why}: using Amazon Root CA 1 and Amazon Root CA 3 "
                     "from the installed certifi bundle")


_IGNORED_KINDS = {"CERTIFICATE REQUEST": "a certificate signing request", "X509 CRL": "a revocation list"}


def _certifi_roots():
    try:
        return amazon_roots.load()
    except (OSError, LookupError, ValueError) as error:
        raise InputError(f"Amazon's roots are unavailable ({error}): put AmazonRootCA1.pem and "
                         "AmazonRootCA3.pem in the certs folder") from None


def check_filesystem(filesystem, packs_image=False, spiffs_ok=False):
    """The board's filesystem setting: SPIFFS is an error when an image is about to be packed,
    unless the user says their own firmware mounts SPIFFS (custom_aws_iot_spiffs = yes)."""
    findings = checks.Findings()
    if filesystem is None:
        return findings
    value = filesystem.strip().lower()
    if value == "littlefs":
        findings.infos.append("filesystem: LittleFS (board_build.filesystem = littlefs)")
        return findings
    if value not in ("", "spiffs"):
        findings.errors.append(f"board_build.filesystem = {filesystem}: the files must go on a LittleFS or "
                               "SPIFFS image; set board_build.filesystem = littlefs")
        return findings
    why = ("SPIFFS (board_build.filesystem = spiffs)" if value else
           "SPIFFS, PlatformIO's default, since board_build.filesystem is not set")
    if spiffs_ok:
        findings.infos.append(f"filesystem: {why}; custom_aws_iot_spiffs = yes says your firmware mounts SPIFFS")
    elif packs_image:
        findings.errors.append(f"filesystem: {why}: the device client mounts LittleFS and would find no "
                               "certificates on this image; add board_build.filesystem = littlefs to the env "
                               "(or custom_aws_iot_spiffs = yes if your own firmware mounts SPIFFS)")
    else:
        findings.warnings.append(f"filesystem: {why}: a LittleFS sketch cannot mount that image; add "
                                 "board_build.filesystem = littlefs to the env (buildfs / uploadfs stop "
                                 "until then)")
    return findings


def prepare(job):
    """plan, then write; returns (plan, [(name, action)]).

    The folder's manifest is shared by every target: preparing one env removes the files
    another env wrote into the same folder, so it holds exactly this env's identity.
    """
    result = plan(job)
    manifest = writer.manifest_path(job.state_dir, job.data_dir)
    try:
        written = writer.sync_outputs(job.data_dir, result.outputs, manifest)
        if job.gitignore:
            writer.ensure_gitignore(job.data_dir, targets.OUTPUT_PATTERNS)
    except OSError as error:
        where = job.shown(error.filename) if error.filename else job.shown(job.data_dir)
        raise InputError(f"{where}: cannot write ({error.strerror or error}): check that it is a folder "
                         "you can write to, and that no folder stands where the board's files go") from None
    return result, written


def describe_outputs(job, results):
    changed = [f"{name} {action}" for name, action in results if action != "unchanged"]
    where = job.shown(job.data_dir)
    return f"{job.target} files in {where}/: " + (", ".join(changed) if changed else "all up to date")

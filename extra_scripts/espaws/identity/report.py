"""The prepare and check jobs with their report, shared by the command line and the build targets."""

import sys

from . import provision, targets
from ..settings import secrets
from ..errors import NoIdentity
from .hygiene import tracked_secrets
from ..portable import printable


class Reporter:
    """Where lines go: the command line prints warnings to stderr, the build prefixes everything."""

    def __init__(self, out=None, err=None, prefix=""):
        self.out, self.err, self.prefix = out or sys.stdout, err or sys.stderr, prefix

    def info(self, line):
        print(printable(f"{self.prefix}{line}", self.out), file=self.out)

    def warning(self, line):
        print(printable(f"{self.prefix}warning: {line}", self.err), file=self.err)

    def findings(self, findings):
        for line in findings.infos:
            self.info(line)
        for line in findings.warnings:
            self.warning(line)


def output_patterns(job):
    """git paths of the board's files in the job's data folder, when it is inside the project."""
    try:
        folder = job.data_dir.resolve().relative_to(job.project_dir.resolve()).as_posix()
    except ValueError:
        return ()
    return tuple(f"{folder}/{name}" for name in targets.OUTPUT_PATTERNS)


def check(job, reporter):
    """Validate and report what would be written; writes nothing. Raises InputError."""
    result = provision.plan(job)
    reporter.findings(result.findings)
    for output in result.outputs:
        reporter.info(f"would write {job.shown(job.data_dir / output.name)} ({len(output.data)} bytes)")
    for path in tracked_secrets(job.project_dir, output_patterns(job)):
        reporter.warning(f"{path} is tracked by git: run `git rm --cached {path}` and keep it out of commits "
                         "(see .gitignore)")
    missing = secrets.missing_required(job.settings)
    if missing:
        reporter.warning(f"{', '.join(missing)} not set: needed for secrets.h when the firmware is built")
    return result


def prepare(job, reporter, identity_optional=False):
    """Validate, then write the board's files. Raises InputError before writing anything.

    With identity_optional (a firmware build: nothing of certs/ goes into the firmware), a
    certs folder with no identity at all is reported in one line, nothing is written, and
    None is returned; an identity that is there and broken still raises.
    """
    try:
        result, written = provision.prepare(job)
    except NoIdentity:
        if not identity_optional:
            raise
        reporter.info(f"{job.shown(job.certs_dir)}/ holds no device identity: building the firmware only; the "
                      "filesystem image will need one (`pio run -t iot-dev-certs` for a first try, or the "
                      "`register` verb with AWS IoT)")
        return None
    reporter.findings(result.findings)
    reporter.info(provision.describe_outputs(job, written))
    return result

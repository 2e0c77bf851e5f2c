"""`register --count N --prefix NAME-` / `--things-file FILE`: many devices, one folder each.

Each thing gets DEVICES_DIR/<thing>/ with its certificate, key and thing.txt, the layout
`batch` reads; the account's ATS endpoint goes into the project's .env once. Devices are
registered one after the other with the single-device steps (register.py), so each is
resumable the same way: a rerun of the same command says "nothing new" for the devices that
are done and completes the one that was interrupted. Throttling is retried with backoff by
botocore; when AWS still refuses, the run stops with the count done and the same command
continues it. By default the fleet shares one policy using the thing-name policy variable.
"""

import collections
import io
from pathlib import Path

from ..errors import InputError
from . import dotenv_edit, policy
from .register import Registration

MAX_COUNT = 10000


def thing_names(count=None, prefix=None, things_file=None):
    """The thing names asked for, in order; InputError naming the first bad one."""
    if things_file is not None:
        try:
            text = Path(things_file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"{things_file}: cannot read the thing names ({error.__class__.__name__}): "
                             "one UTF-8 thing name per line") from None
        names = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        where = lambda index: f"{things_file} line {index + 1}: "  # noqa: E731
    else:
        if not prefix:
            raise InputError("--count needs --prefix NAME- (the things are NAME-001, NAME-002, ...)")
        if not 1 <= count <= MAX_COUNT:
            raise InputError(f"--count must be between 1 and {MAX_COUNT}")
        width = max(3, len(str(count)))
        names = [f"{prefix}{index:0{width}d}" for index in range(1, count + 1)]
        where = lambda index: ""  # noqa: E731
    if not names:
        raise InputError(f"{things_file}: no thing names in it (one per line)")
    for index, name in enumerate(names):
        problem = policy.check_thing_name(name)
        if problem:
            raise InputError(where(index) + problem)
    duplicates = sorted(name for name, times in collections.Counter(names).items() if times > 1)
    if duplicates:
        raise InputError(f"thing name {duplicates[0]} is listed twice: each device needs its own")
    return names


def default_policy_name(prefix):
    return f"{prefix}policy" if prefix else "fleet-policy"


def register_many(iot, project_dir, devices_dir, names, key_type, policy_name, out):
    """Register every name; one line per device. Stops at the first failure (InputError) with
    how far it got."""
    devices_dir = Path(devices_dir)
    endpoint = None
    for done, thing in enumerate(names):
        buffer = io.StringIO()
        folder = devices_dir / thing
        run = Registration(iot, project_dir, str(folder), thing, key_type, policy_name, buffer, device_folder=True)
        try:
            run.register()
        except InputError as error:
            raise InputError([f"{thing}: {problem}" for problem in error.problems] +
                             [f"stopped at {thing} ({done} of {len(names)} done): run the same command again "
                              "to continue"]) from None
        lines = buffer.getvalue().strip().splitlines() or [""]
        if iot.dry_run:  # every call it would make, as for one device
            for line in lines[:-1]:
                print(f"  {line}", file=out)
        print(f"{thing}: {_summary(lines[-1], thing)}", file=out)
        endpoint = endpoint or iot.read("DescribeEndpoint", endpointType="iot:Data-ATS")["endpointAddress"]
    _record_endpoint(iot, Path(project_dir), endpoint, out)
    print(f"{len(names)} device(s) in {devices_dir}: next `batch {devices_dir} --out OUT`", file=out)


def _summary(line, thing):
    """The last line of one device's run, short: "nothing new", "registered (4 change(s) in AWS)"."""
    if line.startswith("nothing new"):
        return "nothing new"
    if line.startswith("dry run"):
        return line
    return line.split(", endpoint")[0].replace(f"done: {thing} ", "")


def _record_endpoint(iot, project_dir, endpoint, out):
    outcome = dotenv_edit.update_file(project_dir / ".env", {"AWS_IOT_ENDPOINT": endpoint}, dry_run=iot.dry_run)
    if outcome == "would change":
        print("would set AWS_IOT_ENDPOINT in .env", file=out)
    elif outcome == "changed":
        print(f"set AWS_IOT_ENDPOINT={endpoint} in .env", file=out)

"""The command line's `batch` verb: prepare many devices in one process, spread over the cores.

    python3 extra_scripts/aws_iot.py batch DEVICES_DIR --out OUT_DIR [--target esp8266|esp32]
                                           [--key-format pkcs8|traditional] [--jobs N]
                                           [--image [--fs-layout FILE]]

Each subfolder of DEVICES_DIR holds one device's PEM files, as downloaded from AWS IoT,
and optionally its thing name in `thing.txt` (see identity/thing.py; AWS_IOT_THING_NAME is
not used here, since one name for every device would have them knock each other off);
its outputs go to OUT_DIR/<device name>/ with the same names, bytes and validation as
`prepare` (this module only fans provision.prepare out over worker processes). A
failing device is reported in one line and the others go on; the exit status is 1
when any device failed. With --image, each device also gets OUT_DIR/<device>/littlefs.bin
and the run writes OUT_DIR/manifest.json (espaws/fleet/).

Imports stay light here (no cryptography): the command line imports this module to
declare its arguments. Workers start with spawn on every system (Windows has no fork;
on macOS fork is unsafe and spawn the default): each imports the plugin's modules and
reads Amazon's roots once, when it starts, never again per device.

Device folder names become output folder names, so a name Windows cannot have (CON,
NUL, COM1...) or two names that differ only in case (one folder on Windows and macOS)
stop the batch before anything is written.
"""

import contextlib
import functools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

EXIT_OK, EXIT_FAILED = 0, 1
# A spawned worker starts a fresh interpreter and imports cryptography (a few hundred ms):
# by default a core gets a worker only when it has at least this many devices to prepare
# (about 2 ms each), so a small batch stays in one process and is not slower for the pool.
DEVICES_PER_WORKER = 200
STATE_DIR_NAME = ".aws_iot-state"  # manifests of written outputs; hidden, so never a device name


@dataclass(frozen=True)
class DeviceResult:
    name: str
    ok: bool
    problems: tuple = ()   # one line each, without the device name
    warnings: tuple = ()
    changed: int = 0       # files written or removed
    record: object = None  # the device's fleet manifest record (batch --image)


def add_arguments(parser):
    from ..identity import targets
    parser.add_argument("devices_dir", metavar="DEVICES_DIR",
                        help="folder with one subfolder of PEM files per device")
    parser.add_argument("--out", required=True, metavar="OUT_DIR",
                        help="outputs go to OUT_DIR/<device name>/")
    parser.add_argument("--target", choices=targets.TARGETS,
                        help="board TLS stack (default: AWS_IOT_TARGET, else esp8266)")
    parser.add_argument("--key-format", choices=targets.KEY_FORMATS,
                        help="private key encoding (default: AWS_IOT_KEY_FORMAT, else pkcs8)")
    parser.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                        help=f"worker processes (default: one per CPU, at most one per "
                             f"{DEVICES_PER_WORKER} devices)")
    parser.add_argument("--image", action="store_true",
                        help="also write OUT_DIR/<device>/littlefs.bin and OUT_DIR/manifest.json")
    parser.add_argument("--fs-layout", metavar="FILE",
                        help="with --image: the board's linker script (esp8266) or partition table CSV (esp32); "
                             "default nodemcuv2 eagle.flash.4m1m.ld / esp32dev default.csv")
    return parser


def default_workers(devices, cpus):
    """Workers for `devices` devices when --jobs is not given: every core, once it pays."""
    return max(1, min(cpus, devices // DEVICES_PER_WORKER))


def device_folders(devices_dir):
    """Sorted non-hidden subfolders of devices_dir."""
    return sorted(p for p in Path(devices_dir).iterdir() if p.is_dir() and not p.name.startswith("."))


def make_jobs(devices, out_dir, target, key_format, settings):
    """A provision.Job per device folder: certs in the folder, outputs in out_dir/<name>.

    Messages show paths relative to the current folder, as the user typed them.
    """
    from ..identity.provision import Job
    out_dir = Path(out_dir).resolve()
    return [Job(project_dir=Path.cwd().resolve(), certs_dir=Path(d).resolve(), data_dir=out_dir / Path(d).name,
                state_dir=out_dir / STATE_DIR_NAME, target=target, settings=settings,
                key_format=key_format, gitignore=False)
            for d in devices]


def prepare_device(job, after=None):
    """Validate and write one device's files, then `after(job, plan)` (its result is the record); never raises."""
    from ..identity import provision
    from ..errors import InputError
    name = job.data_dir.name
    try:
        result, written = provision.prepare(job)
        record = after(job, result) if after else None
    except InputError as error:
        return DeviceResult(name, False, tuple(error.problems))
    except Exception as error:  # one device's bug or I/O error must not stop the others
        return DeviceResult(name, False, (f"unexpected {type(error).__name__}: {error}",))
    changed = sum(1 for _, action in written if action != "unchanged")
    return DeviceResult(name, True, warnings=tuple(result.findings.warnings), changed=changed, record=record)


def name_problems(names):
    """One line per device folder name that cannot be an output folder on every system."""
    from ..portable import case_collisions, windows_name_problem
    problems = [f"{name}: {windows_name_problem(name)}: rename the device folder"
                for name in names if windows_name_problem(name)]
    problems += [f"{' and '.join(group)}: one folder where case is ignored (Windows, macOS): "
                 "rename all but one" for group in case_collisions(names)]
    return problems


def _worker_start():
    """Each worker's start: the plugin's modules and Amazon's roots (amazon_roots caches them)."""
    from ..identity import amazon_roots, provision  # noqa: F401
    with contextlib.suppress(OSError, LookupError):  # a device without a CA then reports the problem
        amazon_roots.load()


def run(jobs, workers, on_result=None, work=prepare_device, start_method="spawn"):
    """work (prepare_device) for every job over `workers` processes; [DeviceResult] in the jobs' order.

    start_method is spawn, which every system has; bench/run.py also measures fork.
    """
    import multiprocessing
    workers = max(1, min(workers, len(jobs)))
    results = {}
    with contextlib.ExitStack() as stack:
        if workers == 1:
            _worker_start()
            stream = map(work, jobs)
        else:
            context = multiprocessing.get_context(start_method)
            pool = stack.enter_context(context.Pool(workers, initializer=_worker_start))
            chunk = max(1, min(16, len(jobs) // (workers * 8)))
            stream = pool.imap_unordered(work, jobs, chunksize=chunk)
        for result in stream:
            results[result.name] = result
            if on_result:
                on_result(result)
    return [results[job.data_dir.name] for job in jobs]


def summary_line(results, seconds, workers):
    failed = sum(1 for r in results if not r.ok)
    ok = len(results) - failed
    return (f"batch: {ok} ok, {failed} failed of {len(results)} device{'s' if len(results) != 1 else ''} "
            f"in {seconds:.2f} s ({workers} job{'s' if workers != 1 else ''})")


class _Progress:
    """tqdm when installed (a bar on a terminal, silent otherwise), else a plain counter."""

    def __init__(self, total, err):
        self.err = err
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        self.bar = (tqdm(total=total, unit="device", file=err, disable=None, dynamic_ncols=True)
                    if tqdm else None)
        self.total, self.done = total, 0
        self.plain = tqdm is None and getattr(err, "isatty", lambda: False)()

    def write(self, line):
        if self.bar is not None:
            self.bar.write(line, file=self.err)
        else:
            print(("\r" if self.plain else "") + line, file=self.err)

    def update(self):
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.plain:
            print(f"\r{self.done}/{self.total} devices", end="", file=self.err, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.plain:
            print(file=self.err)


def main(args, environ=None, out=None, err=None):
    from ..settings import options as options_mod
    from ..settings import secrets
    environ = os.environ if environ is None else environ
    out, err = out or sys.stdout, err or sys.stderr
    devices_dir = Path(args.devices_dir)
    if not devices_dir.is_dir():
        print(f"error: {devices_dir}: folder not found: give a folder with one subfolder of PEM files "
              "per device", file=err)
        return EXIT_FAILED
    devices = device_folders(devices_dir)
    if not devices:
        print(f"error: {devices_dir}: no device subfolders: put each device's PEM files in "
              f"{devices_dir}/<device name>/", file=err)
        return EXIT_FAILED
    problems = name_problems([d.name for d in devices])
    for problem in problems:
        print(f"error: {problem}", file=err)
    if problems:
        return EXIT_FAILED
    out_dir = Path(args.out)
    if out_dir.resolve() in {d.resolve() for d in devices} or out_dir.resolve() == devices_dir.resolve():
        print(f"error: --out {out_dir}: must not be DEVICES_DIR or one of its device folders", file=err)
        return EXIT_FAILED
    overrides = {"target": args.target, "key_format": args.key_format}
    opts = options_mod.resolve(lambda _name: "", environ, overrides)
    target = opts.target or "esp8266"
    # The same settings as `prepare` run here: the environment over ./.env (endpoint, passphrase).
    settings = secrets.read_settings(".", environ)
    # One name for every device would have them knock each other off AWS IoT: each device's
    # name comes from its own folder's thing.txt, never from the environment.
    if settings.pop("AWS_IOT_THING_NAME", None):
        print("warning: AWS_IOT_THING_NAME is not used by batch: put each device's thing name in "
              f"{devices_dir}/<device name>/thing.txt", file=err)
    jobs = make_jobs(devices, out_dir, target, opts.key_format, settings)
    workers = args.jobs if args.jobs and args.jobs > 0 else default_workers(len(jobs), os.cpu_count() or 1)
    workers = max(1, min(workers, len(jobs)))

    work, geometry = prepare_device, None
    if args.image:  # before any device is prepared: a missing littlefs-python or bad layout stops here
        from . import step
        geometry = step.setup(devices, target, args.fs_layout)
        work = functools.partial(prepare_device, after=functools.partial(step.device_step, geometry=geometry))
    progress = _Progress(len(jobs), err)

    def report(result):
        if result.problems:  # one line per failing device
            progress.write(f"error: {result.name}: {'; '.join(result.problems)}")
        for warning in result.warnings:
            progress.write(f"warning: {result.name}: {warning}")
        progress.update()

    started = time.monotonic()
    try:
        results = run(jobs, workers, report, work)
    finally:
        progress.close()
    seconds = time.monotonic() - started
    changed = sum(r.changed for r in results if r.ok)
    print(f"{summary_line(results, seconds, workers)}; {target} files in {out_dir}/<device>/, "
          f"{changed} file{'s' if changed != 1 else ''} written or removed", file=out)
    if geometry is not None:
        path = step.finish(out_dir, results, target, geometry)
        images = sum(1 for r in results if r.ok)
        print(f"images: {images} littlefs.bin ({geometry.size:,} bytes at {geometry.offset:#x}, "
              f"{geometry.source}); record in {path}", file=out)
    return EXIT_FAILED if any(not r.ok for r in results) else EXIT_OK

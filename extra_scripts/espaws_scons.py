"""The PlatformIO side of the plugin: SCons nodes, actions and the iot-* targets.

The only module that imports SCons; extra_scripts/aws_iot.py calls `load` when PlatformIO
reads it (as a `pre:` script, as a library's build.extraScript, or both). Reading it does no
work, so `pio run -t clean` and `-t idedata` need no secrets. The work happens in SCons actions:
- secrets.h in $BUILD_DIR/aws_iot/, on the include path; compiled code that includes it
  depends on it through SCons's scanner, and it changes only when a value changes;
- the board's files in data/ (part of the default build and of upload, and always before
  buildfs / uploadfs / iot-probe, since the image is built from that folder; data/ holds the
  files of one env at a time, the one prepared last, and a build that packs the image keeps
  the folder locked until it ends, so two envs never mix in an image); only the image needs
  an identity: a firmware build without one says so in one line;
- the custom targets of CUSTOM_TARGETS.
The logic lives in espaws/. Options: espaws/settings/options.py.
"""

import contextlib
import functools
import hashlib
import importlib
import os
import subprocess
import sys

from SCons.Errors import UserError
from SCons.Script import COMMAND_LINE_TARGETS, DefaultEnvironment

from espaws import __version__
from espaws.errors import InputError
from espaws.identity import targets
from espaws.portable import option_path, printable, tolerate_unencodable_output
from espaws.requirements import missing_for
from espaws.settings import options, secrets

FILESYSTEM_TARGETS = ("buildfs", "uploadfs", "uploadfsota")
# Both espressif builders write the uploadfsota image where it destroys the board (ESP8266 serial:
# offset 0x0, over the bootloader; ESP8266 espota: sent as firmware; ESP32 serial: over the app).
UPLOADFSOTA_REFUSED = ("aws_iot: uploadfsota refused before anything is sent: PlatformIO's ESP8266/ESP32 builders "
                       "write that image over the bootloader or the firmware; use `pio run -t uploadfs` "
                       "(serial), or `uploadfs` with `upload_protocol = espota` (over the air)")
# PlatformIO reads the custom targets' list only through its `idedata` target (`pio run
# --list-targets`, `pio project metadata`, the VS Code task list).
LISTING_TARGETS = ("idedata", "__idedata")


def install_requirements(env, verb_argv=(), in_action=False):
    """Install what the build needs, and what the verb of `verb_argv` needs, into PlatformIO's
    interpreter when it lacks them; else stop with the command to run (in an action, through
    SCons's one clean line)."""
    lacking = missing_for(list(verb_argv))
    if not lacking:
        return
    python = env.subst("$PYTHONEXE")
    command = [python, "-m", "pip", "install", "--quiet", *lacking]
    shown = " ".join(f'"{part}"' if " " in part or ">" in part else part for part in command)
    print(printable(f"aws_iot: installing {', '.join(lacking)} into PlatformIO's Python ({python})", sys.stdout))
    result = subprocess.run(command, capture_output=True, text=True)
    importlib.invalidate_caches()
    if result.returncode != 0 or missing_for(list(verb_argv)):
        problem = (f"aws_iot: could not install {', '.join(lacking)} (offline?): run `{shown}` "
                   "once with network access, then build again")
        if in_action:
            raise UserError(problem)
        sys.stderr.write(problem + "\n")
        env.Exit(1)


class ReportedAction:
    """An SCons action whose failures end the build in clear lines, never in a traceback.

    A class rather than a closure for SCons's sake: SCons signs a Python action by hashing its
    code, constants and closure, recursively, a millisecond per action on every build. This one
    it signs by __call__'s few bytes; the plugin's release is among the nodes' sources instead.
    """

    def __init__(self, action):
        self.action = action
        functools.update_wrapper(self, action)

    def __call__(self, target, source, env):
        return run_reported(self.action, target, source, env)


def run_reported(action, target, source, env):
    """Run `action`, turning InputError and our own bugs into SCons's one-line UserError."""
    try:
        return action(target, source, env)
    except UserError:
        raise
    except InputError as error:
        raise UserError("\n".join(f"aws_iot: {problem}" for problem in error.problems)) from None
    except Exception as error:  # a bug of ours: still one line, and a way to report it
        raise UserError(f"aws_iot: unexpected {type(error).__name__}: {error} "
                        "(please report this with the output of `pio run -v`)") from None


def settings_now(env):
    return secrets.read_settings(env.subst("$PROJECT_DIR"))


@ReportedAction
def write_secrets_header(target, source, env):
    from espaws.identity.writer import write_if_changed
    try:
        text = secrets.render_header(settings_now(env), dotenv_hint=os.path.join(env.subst("$PROJECT_DIR"), ".env"))
    except ValueError as error:
        raise InputError(str(error)) from None
    write_if_changed(str(target[0]), text.encode("utf-8"), private=True)


def packs_image():
    return bool(set(FILESYSTEM_TARGETS) & set(COMMAND_LINE_TARGETS))


def needs_identity():
    """The image, and the probe that connects with its files, need this env's identity in data/."""
    return packs_image() or "iot-probe" in COMMAND_LINE_TARGETS


def make_job(env):
    from espaws.settings.project import project_job
    return project_job(env.subst("$PROJECT_DIR"), env["AWS_IOT_OPTIONS"], settings_now(env),
                     filesystem=env.GetProjectOption("board_build.filesystem", ""),
                     state_dir=os.path.join(env.subst("$PROJECT_WORKSPACE_DIR"), "aws_iot"),
                     packs_image=packs_image())


def reporter():
    from espaws.identity.report import Reporter
    return Reporter(sys.stdout, sys.stdout, prefix="aws_iot: ")


@ReportedAction
def prepare_step(target, source, env):
    """The build's step: also writes a stamp listing the outputs, so SCons can skip it next time.

    The firmware needs nothing from certs/: only the image (and the probe) require an identity.
    """
    from espaws.identity import report, writer
    job = make_job(env)
    if packs_image():
        # The image is packed from data/ after this step: keep other builds (another env, another
        # terminal) out of the folder until this process has packed and uploaded it.
        try:
            writer.hold_until_exit(writer.manifest_path(job.state_dir, job.data_dir), on_wait=lambda: print(
                f"aws_iot: waiting for another build that is packing {job.shown(job.data_dir)}/", flush=True))
        except OSError as error:
            raise InputError(f"{job.shown(error.filename or job.state_dir)}: cannot lock ({error.strerror}): "
                             "check that the project folder is writable") from None
    plan = report.prepare(job, reporter(), identity_optional=not needs_identity())
    if plan is None:  # no identity: no stamp, so every build says so until there is one
        with contextlib.suppress(FileNotFoundError):
            os.unlink(str(target[0]))
        return
    listing = "".join(f"{o.name} {hashlib.sha256(o.data).hexdigest()}\n" for o in plan.outputs)
    writer.write_if_changed(str(target[0]), listing.encode(), private=True)  # it holds the key's digest


@ReportedAction
def prepare_target(target, source, env):
    from espaws.identity import report
    report.prepare(make_job(env), reporter())


@ReportedAction
def check_target(target, source, env):
    from espaws.identity import report
    report.check(make_job(env), reporter())


def cli_action(*argv):
    """An action running one command-line verb for this env's project."""
    @ReportedAction
    def action(target, source, env):
        from espaws.cli import main
        tolerate_unencodable_output((sys.stdout, sys.stderr))  # the verbs print paths
        opts = env["AWS_IOT_OPTIONS"]
        extra = []
        install_requirements(env, argv, in_action=True)  # boto3 for the AWS verbs, on their first use
        if argv[0] == "dev-certs":
            extra = ["--key-type", opts.dev_key_type]
        elif argv[0] == "register":  # this env's custom_aws_iot_certs_dir
            extra = ["--env", env.subst("$PIOENV")]
        elif argv[0] == "probe":
            extra = ["--target", opts.target, "--data-dir", opts.data_dir or env.subst("$PROJECT_DATA_DIR")]
        status = main([*argv, "--project-dir", env.subst("$PROJECT_DIR"), *extra])
        if status:
            raise UserError(f"aws_iot: {argv[0]} failed (see above)")
    return action


def board_layout_file(env, target):
    """The env's flash layout, as the real builders find it: ESP32's partition table
    ($PARTITIONS_TABLE_CSV, set by the platform's builder), ESP8266's linker script (the
    framework's, through PlatformIO's GetActualLDScript; without a framework script, the
    board's build.ldscript in the project or the platform's ld/ folder)."""
    if target == "esp32":
        return env.subst("$PARTITIONS_TABLE_CSV") or None
    if "LDSCRIPT_PATH" in env or "-T" in env.get("LINKFLAGS", []):
        return os.path.abspath(env.GetActualLDScript())  # it may answer relative to the project
    board = env.BoardConfig()
    name = board.get("build.ldscript", board.get("build.arduino.ldscript", ""))
    folders = [env.subst("$PROJECT_DIR"), os.path.join(env.PioPlatform().get_dir(), "ld")]
    found = [os.path.join(f, name) for f in folders if name and os.path.isfile(os.path.join(f, name))]
    if not found:
        raise InputError(f"board {env.subst('$BOARD')}: no linker script {name or '(build.ldscript unset)'} found for the "
                         "filesystem geometry: set board_build.ldscript")
    return found[0]


@ReportedAction
def fleet_images_target(target, source, env):
    from espaws.cli import main
    opts = env["AWS_IOT_OPTIONS"]
    argv = ["batch", opts.fleet_devices, "--out", opts.fleet_out,  # both resolved by declare()
            "--target", opts.target, "--key-format", opts.key_format, "--image",
            "--fs-layout", board_layout_file(env, opts.target), "--jobs", "1"]  # no process pool inside SCons
    if main(argv):
        raise UserError("aws_iot: iot-fleet-images failed (see above)")


def declare(env):
    project_dir = env.subst("$PROJECT_DIR")
    ini = env.GetProjectOptions(as_dict=True)  # one read of the env's section, not one per option
    opts = options.resolve(lambda name: ini.get(name, ""), os.environ)
    target = opts.target or targets.target_for_platform(env.get("PIOPLATFORM")) or ""
    try:  # a folder option written on Windows (certs\dev, C:\certs) read here
        data_dir = option_path(project_dir, opts.data_dir, os.name) if opts.data_dir else env.subst("$PROJECT_DATA_DIR")
        certs_dir = option_path(project_dir, opts.certs_dir, os.name)
        fleet_devices = option_path(project_dir, opts.fleet_devices, os.name)
        fleet_out = option_path(project_dir, opts.fleet_out, os.name)
        asks_aws = options.check_aws(opts)
    except ValueError as error:
        sys.stderr.write(f"aws_iot: {error}\n")
        env.Exit(1)
    opts = opts._replace(target=target, data_dir=data_dir, fleet_devices=fleet_devices, fleet_out=fleet_out)
    # The filesystem image is built from $PROJECT_DATA_DIR: point it at our output folder.
    env.Replace(PROJECT_DATA_DIR=data_dir, AWS_IOT_OPTIONS=opts)
    work_dir = os.path.join(env.subst("$BUILD_DIR"), "aws_iot")
    # SCons keeps Value contents in .sconsign, so it only ever sees a hash of the settings; with
    # the plugin's release, so an upgrade redoes both steps (SCons does not sign the code they call).
    settings_hash = f"{secrets.source_fingerprint(project_dir)} {__version__}"

    header = env.Command(os.path.join(work_dir, "secrets.h"), env.Value(settings_hash),
                         env.VerboseAction(write_secrets_header, "Generating secrets.h"))
    env.Precious(header)  # rewritten only when the text changes, so its mtime means something
    env.Replace(AWS_IOT_INCLUDE_DIR=[work_dir])
    env.AppendUnique(CPPPATH=[work_dir])

    inputs = sorted(os.path.join(certs_dir, n) for n in _list(certs_dir))
    # Everything the outputs depend on besides the files themselves (the endpoint and the
    # passphrase are in the settings hash).
    config = "\0".join([target, opts.key_format, data_dir, certs_dir, settings_hash, opts.spiffs,
                        ini.get("board_build.filesystem", "")])
    prepared = env.Command(os.path.join(work_dir, "prepared.txt"), inputs + [env.Value(config)],
                           env.VerboseAction(prepare_step, "Preparing the board's certificate files"))
    env.Precious(prepared)
    if os.path.exists(data_dir) and not os.path.isdir(data_dir):
        # SCons itself would stop on the Dir node below with a traceback.
        sys.stderr.write(f"aws_iot: {os.path.relpath(data_dir, project_dir)}: cannot write (not a folder): "
                         "remove or rename that file, the board's files go into a folder there\n")
        env.Exit(1)
    env.Depends(env.Dir(data_dir), prepared)
    # Through an always-built alias: no "is up to date" line on no-op builds, yet the step
    # itself runs only when its inputs change.
    files = env.AlwaysBuild(env.Alias("aws_iot_files", prepared))
    env.Default(files)
    # `upload` builds the firmware, not the default targets: check certs/ there too, so a broken
    # identity stops it and an absent one is said, as for `pio run`.
    env.Depends(env.Alias("upload"), files)
    if needs_identity():
        # The image (or the probe) must see this env's files, whatever SCons remembers: another env
        # may have prepared the folder since (its files are removed then).
        env.AlwaysBuild(prepared)

    if wants_custom_targets():
        declare_custom_targets(env, prepared, asks_aws)


# name: (title, description); the actions are in custom_target_actions.
CUSTOM_TARGETS = {
    "iot-prepare": ("AWS IoT: prepare files", "Validate certs/ and write the board's files"),
    "iot-check": ("AWS IoT: check", "Validate certs/ and report, writing nothing"),
    "iot-dev-certs": ("AWS IoT: development certificates",
                      "Development CA, device certificate and key in dev-certs/ (NOT for production)"),
    "iot-broker": ("AWS IoT: local broker",
                   "Run mosquitto with the development CA, for testing the board without AWS"),
    "iot-register": ("AWS IoT: register the thing", "Thing, certificate from a key made here, policy and endpoint "
                     "in AWS IoT (thing name from AWS_IOT_THING_NAME)"),
    "iot-probe": ("AWS IoT: probe the endpoint",
                  "Connect from this PC with exactly the files in data/ and name what fails"),
    "iot-fleet-images": ("AWS IoT: fleet images",
                         "One LittleFS image per device folder, in this board's geometry (docs/fleet.md)"),
}


def wants_custom_targets():
    """Whether this run may build or list a custom target. Declaring them costs about a
    millisecond each, which a no-op `pio run` would pay for nothing."""
    return bool(set(COMMAND_LINE_TARGETS) & (set(CUSTOM_TARGETS) | set(LISTING_TARGETS)))


def custom_target_actions(env, asks_aws):
    return {
        "iot-prepare": env.VerboseAction(prepare_target, "Preparing"),
        "iot-check": (cli_action("check", "--aws", "--env", env.subst("$PIOENV")) if asks_aws else
                      env.VerboseAction(check_target, "Checking")),
        "iot-dev-certs": cli_action("dev-certs"),
        "iot-broker": cli_action("broker"),
        "iot-register": cli_action("register"),
        "iot-probe": cli_action("probe"),
        "iot-fleet-images": env.VerboseAction(fleet_images_target, "Imaging the fleet"),
    }


def declare_custom_targets(env, prepared, asks_aws):
    actions = custom_target_actions(env, asks_aws)
    for name, (title, description) in CUSTOM_TARGETS.items():
        # The probe connects with exactly the files in data/, so it needs them prepared first.
        env.AddCustomTarget(name, prepared if name == "iot-probe" else None, actions[name],
                            title=title, description=description)


def _list(folder):
    try:
        return [n for n in os.listdir(folder) if not n.startswith(".") and os.path.isfile(os.path.join(folder, n))]
    except OSError:  # missing, unreadable or a file: the prepare step says which, in one line
        return []


def load(env, project_sources_env):
    """Declare everything once per project, whether loaded as a `pre:` script, a library, or both.

    As a library (`build.extraScript` of library.json, run inside BuildProgram()) `env` is the
    library's clone of the project's environment: targets and PROJECT_DATA_DIR belong on the
    project's own (DefaultEnvironment), or they would be unlisted and ignored by the builders,
    and the include path of secrets.h on the clone that compiles the project's src/.
    """
    project_env = DefaultEnvironment()
    if project_env.get("AWS_IOT_PLUGIN_LOADED"):
        return  # a pre: script already declared everything (its include path reaches the clones)
    project_env["AWS_IOT_PLUGIN_LOADED"] = True
    if "uploadfsota" in COMMAND_LINE_TARGETS:
        sys.stderr.write(UPLOADFSOTA_REFUSED + "\n")
        project_env.Exit(1)
    # `pio run -t clean` stops right after the pre: scripts: nothing to declare or install for it.
    if project_env.IsCleanTarget():
        return
    install_requirements(project_env)
    declare(project_env)
    for clone in (env, project_sources_env):
        if clone is not None and clone is not project_env:
            clone.AppendUnique(CPPPATH=project_env["AWS_IOT_INCLUDE_DIR"])

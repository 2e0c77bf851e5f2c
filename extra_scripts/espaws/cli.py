"""The command line, for Arduino IDE users and scripts: the same jobs as the PlatformIO targets.

    python3 extra_scripts/aws_iot.py prepare|check|dev-certs|broker|probe|batch|demo|flash|register [--project-dir DIR] ...

Exit status: 0 success, 1 wrong input (one line per problem on stderr), 2 usage error (argparse).
"""

import argparse
import os
import sys
from pathlib import Path

from .settings import options as options_mod
from .settings import projectini, secrets
from .identity import targets
from .errors import InputError
from .portable import tolerate_unencodable_output
from .settings.project import project_job

EXIT_OK, EXIT_INPUT = 0, 1


def _common(parser):
    parser.add_argument("--project-dir", default=".", help="project folder (default: the current one)")
    parser.add_argument("--env", help="read custom_aws_iot_* options of this env in platformio.ini")
    parser.add_argument("--target", choices=targets.TARGETS, help="board TLS stack (default: from platformio.ini, "
                        "else AWS_IOT_TARGET, else esp8266)")
    parser.add_argument("--certs-dir", help="folder of PEM files (default: certs)")
    parser.add_argument("--data-dir", help="output folder (default: data)")
    parser.add_argument("--key-format", choices=targets.KEY_FORMATS, help="private key encoding (default: pkcs8)")


# Verbs whose module declares its own arguments. Only the module of the verb being run is
# imported: `--help` and every other verb never load its dependencies (cryptography, a
# broker's POSIX user lookup...).
LAZY_VERBS = {  # verb: (module, help)
    "broker": ("rig.broker", "run a local mosquitto broker with the development CA"),
    "probe": ("rig.probe", "connect from this PC with exactly the files in data/"),
    "batch": ("fleet.batch", "prepare one output folder per device folder, on all cores"),
    "demo": ("rig.demo", "the whole flow against a local broker: no board, no AWS"),
    "flash": ("fleet.flash", "write a device's image (batch --image) with esptool"),
    "register": ("aws.cli", "register the thing in AWS IoT: key made here, certificate from a CSR, "
                            "least-privilege policy, endpoint into .env"),
}


def requested_verb(argv):
    """The verb on a command line (its first word that is not an option), or None."""
    return next((word for word in argv if not word.startswith("-")), None)


def make_parser(verb=None):
    """The parser; the arguments of a LAZY_VERBS verb are declared only when `verb` is it."""
    parser = argparse.ArgumentParser(description="AWS IoT identities for ESP8266 / ESP32 boards")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    prepare = verbs.add_parser("prepare", help="validate certs/ and write the board's files to data/")
    _common(prepare)
    prepare.add_argument("--secrets-out", help="also write secrets.h to this file (e.g. your sketch folder)")
    check = verbs.add_parser("check", help="validate and report what was found, write nothing")
    _common(check)
    check.add_argument("--aws", action="store_true", help="also ask AWS: certificate ACTIVE, attached to the "
                       "thing, policies allow the device, endpoint right (needs AWS credentials)")
    if verb == "check":  # the AWS options' module only when `check` runs
        _lazy("aws.cli").add_aws_arguments(check)
    dev = verbs.add_parser("dev-certs", help="development CA, device certificate and key (NOT for production)")
    dev.add_argument("--project-dir", default=".")
    dev.add_argument("--key-type", choices=options_mod.DEV_KEY_TYPES, default=None,
                     help="device key type: ec (P-256, default) or rsa (2048)")
    dev.add_argument("--force", action="store_true", help="replace existing development certificates")
    for name, (module_name, text) in LAZY_VERBS.items():
        sub = verbs.add_parser(name, help=text)
        sub.set_defaults(module=module_name)
        if name == verb:
            _lazy(module_name).add_arguments(sub)
    return parser


def _lazy(module_name):
    import importlib
    return importlib.import_module(f"{__package__}.{module_name}")


def resolve_options(args, environ):
    env_name, ini = projectini.read_env(args.project_dir, getattr(args, "env", None))
    overrides = {name: getattr(args, name, None) for name in options_mod.NAMES}
    opts = options_mod.resolve(lambda key: ini.get(key, ""), environ, overrides)
    if not opts.target:
        target = projectini.target_from_platform(ini.get("platform")) or "esp8266"
        opts = opts._replace(target=target)
    filesystem = ini.get("board_build.filesystem", "") if env_name else None
    return opts, filesystem


def run_prepare_or_check(args, environ, out, err):
    from .identity import report
    opts, filesystem = resolve_options(args, environ)
    settings = secrets.read_settings(args.project_dir, environ)
    job = project_job(args.project_dir, opts, settings, filesystem)
    reporter = report.Reporter(out, err)
    if args.verb == "check":
        report.check(job, reporter)
        if args.aws:
            _lazy("aws.cli").check(args, settings, job.certs_dir, out)
        return EXIT_OK
    header = None
    if args.secrets_out:  # rendered first: a missing variable must stop us before data/ is written
        try:
            header = secrets.render_header(settings, dotenv_hint=str(Path(args.project_dir) / ".env"))
        except ValueError as error:
            raise InputError(str(error)) from None
    report.prepare(job, reporter)
    if header is not None:
        from .identity.writer import write_if_changed
        changed = write_if_changed(args.secrets_out, header.encode("utf-8"), private=True)
        reporter.info(f"secrets.h {'written to' if changed else 'up to date at'} {args.secrets_out}")
    return EXIT_OK


def run_dev_certs(args, environ, out):
    from .rig import devpki
    _, ini = projectini.read_env(args.project_dir)
    key_type = options_mod.resolve(lambda key: ini.get(key, ""), environ, {"dev_key_type": args.key_type}).dev_key_type
    if key_type not in options_mod.DEV_KEY_TYPES:
        raise InputError(f"unknown development key type {key_type!r}: use ec or rsa")
    folder = Path(args.project_dir).resolve() / options_mod.DEV_CERTS_DIR
    try:
        paths = devpki.write_dev_certs(folder, key_type=key_type, overwrite=args.force)
    except devpki.DevCertsExist as error:
        raise InputError(str(error)) from None
    state = f"written: {', '.join(p.name for p in paths.written)}" if paths.written else "already there"
    print(f"development certificates (NOT FOR PRODUCTION) in {folder} ({state}); use them with "
          f"AWS_IOT_CERTS_DIR={options_mod.DEV_CERTS_DIR} or custom_aws_iot_certs_dir = "
          f"{options_mod.DEV_CERTS_DIR}", file=out)
    return EXIT_OK


def console():
    """The `espaws` command (pyproject's console script) and `python -m espaws`."""
    tolerate_unencodable_output((sys.stdout, sys.stderr))
    sys.exit(main())


def main(argv=None, environ=None, out=None, err=None, before_run=None):
    """Run one verb; `before_run()` is called once the arguments are valid (the script checks
    its requirements there, so `--help` works before they are installed)."""
    environ = os.environ if environ is None else environ
    out, err = out or sys.stdout, err or sys.stderr
    argv = sys.argv[1:] if argv is None else list(argv)
    args = make_parser(requested_verb(argv)).parse_args(argv)  # exits 2 on usage errors
    if before_run:
        before_run()
    try:
        if args.verb in ("prepare", "check"):
            return run_prepare_or_check(args, environ, out, err)
        if args.verb == "dev-certs":
            return run_dev_certs(args, environ, out)
        return _lazy(args.module).main(args)
    except InputError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=err)
        return EXIT_INPUT

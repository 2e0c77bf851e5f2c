"""The AWS verbs' command line: arguments declared here with no heavy import (boto3 and
cryptography load only when a verb runs).

    register --thing NAME [--key-type ec|rsa] [--policy NAME] [--dry-run] [--rotate]
    check --aws                  (the AWS side of the identity in certs/)
both with --profile / --region; AWS_ENDPOINT_URL and the rest of boto3's configuration apply.
"""

import os
import sys
from pathlib import Path

from ..errors import InputError


def add_arguments(parser):
    """register's arguments."""
    parser.add_argument("--thing", help="thing name (default: AWS_IOT_THING_NAME from the environment or .env)")
    parser.add_argument("--project-dir", default=".", help="project folder (default: the current one)")
    parser.add_argument("--key-type", choices=("ec", "rsa"), default="ec",
                        help="device key made on this PC: ec (P-256, default) or rsa (2048)")
    parser.add_argument("--policy", help="attach this shared policy (created when absent, with the thing name as "
                        "a policy variable, for fleets); default: a policy <thing>-policy for this thing only")
    parser.add_argument("--dry-run", action="store_true", help="print each AWS call that would change something")
    parser.add_argument("--rotate", action="store_true",
                        help="new certificate for a registered thing; the old one is deactivated afterwards")
    parser.add_argument("--certs-dir", help="folder of the device's PEM files (default: certs)")
    fleet = parser.add_argument_group("many devices (one folder each, the layout `batch` reads)")
    fleet.add_argument("--count", type=int, metavar="N", help="register N things named PREFIX001, PREFIX002, ...")
    fleet.add_argument("--prefix", metavar="PREFIX", help="thing name prefix for --count, e.g. sensor-")
    fleet.add_argument("--things-file", metavar="FILE", help="register the thing names in FILE, one a line")
    fleet.add_argument("--devices-dir", default="devices", metavar="DIR",
                       help="where the device folders go (default: devices, in the project folder)")
    parser.add_argument("--env", help="read custom_aws_iot_* options of this env in platformio.ini")
    add_aws_arguments(parser)
    return parser


def add_aws_arguments(parser):
    parser.add_argument("--profile", help="AWS profile from ~/.aws (default: AWS_PROFILE, else the default chain)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION or the profile's region)")


def main(args, out=None, environ=None):
    """register."""
    from ..settings import secrets
    from . import policy
    from .register import Registration
    from .session import Iot, iot_client
    out = out or sys.stdout
    environ = os.environ if environ is None else environ
    project_dir = Path(args.project_dir).resolve()
    if args.count is not None or args.things_file:
        return register_fleet(args, project_dir, out)
    settings = secrets.read_settings(project_dir, environ)
    thing = args.thing or settings.get("AWS_IOT_THING_NAME", "")
    problem = policy.check_thing_name(thing)
    if problem:
        raise InputError(problem)
    certs_name = args.certs_dir or certs_dir_option(args, environ)
    iot = Iot(iot_client(args.profile, args.region), dry_run=args.dry_run, say=lambda line: print(line, file=out))
    Registration(iot, project_dir, certs_name, thing, args.key_type, args.policy, out,
                 passphrase=settings.get("AWS_IOT_KEY_PASSPHRASE")).register(rotate=args.rotate)
    return 0


def register_fleet(args, project_dir, out):
    from . import fleet
    from .session import Iot, iot_client
    if args.thing or args.rotate:
        raise InputError("--count / --things-file register new devices: not with --thing or --rotate")
    if args.count is not None and args.things_file:
        raise InputError("use either --count with --prefix or --things-file, not both")
    names = fleet.thing_names(args.count, args.prefix, args.things_file)
    iot = Iot(iot_client(args.profile, args.region), dry_run=args.dry_run, say=lambda line: print(line, file=out))
    policy_name = args.policy or fleet.default_policy_name(args.prefix)
    fleet.register_many(iot, project_dir, project_dir / args.devices_dir, names, args.key_type, policy_name, out)
    return 0


def certs_dir_option(args, environ):
    from ..cli import resolve_options
    opts, _ = resolve_options(args, environ)
    return opts.certs_dir


def check(args, settings, certs_dir, out=None):
    """check --aws, after the local checks passed."""
    from . import verify
    from .session import Iot, iot_client
    out = out or sys.stdout
    iot = Iot(iot_client(args.profile, args.region), say=lambda line: print(line, file=out))
    # TestAuthorization is asked once: an account without it should not wait through retries.
    single = iot_client(args.profile, args.region, attempts=1)
    verify.check(iot, certs_dir, Path(certs_dir).name, settings, iot.say, single_try_client=single)

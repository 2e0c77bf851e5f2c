"""AWS IoT identities for ESP8266 / ESP32: the PlatformIO extra script and the command line.

In platformio.ini:  extra_scripts = pre:extra_scripts/aws_iot.py
On a shell:         python3 extra_scripts/aws_iot.py prepare|check|dev-certs|broker|probe|batch|demo|flash|register --help

This file stays small because SCons compiles an extra script from source on every build;
what it loads comes from .pyc files:
- under PlatformIO, espaws_scons.py declares the build's nodes and targets (it is the only
  module that imports SCons);
- on a shell, espaws/cli.py runs the verb.
Both drive the same plain package, espaws/.
"""

import os
import sys

# The oldest Python the plugin runs on (PlatformIO uses the system's Python 3); a test checks
# it with vermin.
MIN_PYTHON = (3, 9)


def require_packages():
    from espaws.requirements import missing_for
    missing = missing_for(sys.argv[1:])
    if missing:
        print(f"error: missing Python packages: run `{sys.executable} -m pip install "
              f"{' '.join(repr(s) for s in missing)}`", file=sys.stderr)
        sys.exit(1)


def run_command_line():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from espaws.portable import tolerate_unencodable_output
    tolerate_unencodable_output((sys.stdout, sys.stderr))
    from espaws.cli import main
    sys.exit(main(before_run=require_packages))


def exported_project_sources_env():
    """PlatformIO's `projenv` (compiles src/) once it exists: only when loaded as a library."""
    try:
        Import("projenv")  # noqa: F821 - SCons
    except Exception:  # SCons's UserError: not exported yet, so this is a pre: script
        return None
    return projenv  # noqa: F821


if sys.version_info < MIN_PYTHON:
    sys.exit(f"aws_iot: Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed, this is "
             f"{sys.version.split()[0]} ({sys.executable})")

if __name__ == "__main__":
    run_command_line()
elif __name__ != "__mp_main__":  # `batch`'s spawned workers run this file again: only define there
    Import("env")  # noqa: F821 - SCons, which also put this folder on sys.path
    import espaws_scons
    espaws_scons.load(env, exported_project_sources_env())  # noqa: F821

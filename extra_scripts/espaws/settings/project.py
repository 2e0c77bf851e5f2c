"""From a project's resolved options and settings to the identity pipeline's Job."""

import os
from pathlib import Path

from ..errors import InputError
from ..portable import option_path
from . import options


def project_job(project_dir, opts, settings, filesystem=None, state_dir=None, packs_image=False):
    """The provision.Job of a project: options resolved to absolute folders (InputError when one
    cannot be), as the build glue and the command line both need it."""
    from ..identity.provision import Job
    project_dir = Path(project_dir).resolve()
    try:
        certs_dir = Path(option_path(str(project_dir), opts.certs_dir, os.name))
        data_dir = Path(option_path(str(project_dir), opts.data_dir or "data", os.name))
        spiffs_ok = options.spiffs_ok(opts)
    except ValueError as error:
        raise InputError(str(error)) from None
    return Job(
        project_dir=project_dir,
        certs_dir=certs_dir,
        data_dir=data_dir,
        state_dir=Path(state_dir) if state_dir else project_dir / ".pio" / "aws_iot",
        target=opts.target,
        settings=settings,
        key_format=opts.key_format,
        filesystem=filesystem,
        packs_image=packs_image,
        spiffs_ok=spiffs_ok,
    )

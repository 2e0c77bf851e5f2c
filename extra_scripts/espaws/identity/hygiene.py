"""Files that must stay out of git: certificates, generated outputs, secrets."""

import fnmatch
import subprocess

MUST_NOT_TRACK = ("certs/*", "dev-certs/*", "data/*.der", "data/*.pem", "secrets.h", "*/secrets.h",
                  ".env", "*/.env", "devices/*", "fleet/*")  # the last two: iot-fleet-images' folders
ALLOWED = ("certs/README.md",)


def tracked_secrets(project_dir, extra_patterns=()):
    """Paths git tracks that match the patterns above; [] when this is no git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=project_dir, capture_output=True,
                                timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    patterns = MUST_NOT_TRACK + tuple(extra_patterns)
    return [path for path in listed.decode("utf-8", "replace").split("\0")
            if path and path not in ALLOWED and any(fnmatch.fnmatch(path, p) for p in patterns)]

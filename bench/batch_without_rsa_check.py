"""What-if, for the benchmark only: the `batch` verb with cryptography's RSA private-key check skipped.

cryptography validates every RSA private key it loads (primality and consistency of its
parts, tens of ms per RSA-2048 key); pki.py's load_pem_private_key call does that per device.
This runs the unchanged verb with `unsafe_skip_rsa_key_validation=True` passed to that
call, to show what the batch would cost without it. Not used by the plugin.
    usage: batch_without_rsa_check.py DEVICES_DIR --out OUT_DIR [--jobs N]
"""
import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extra_scripts"))

from cryptography.hazmat.primitives import serialization  # noqa: E402

serialization.load_pem_private_key = functools.partial(serialization.load_pem_private_key,
                                                       unsafe_skip_rsa_key_validation=True)

from aws_iot_tools.cli import main  # noqa: E402

sys.exit(main(["batch", *sys.argv[1:]]))

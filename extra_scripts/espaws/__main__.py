"""`python -m espaws`: the same command line as `espaws` and `python3 extra_scripts/aws_iot.py`."""

from .cli import console

console()

"""Turn AWS IoT PEM files into what an ESP8266 / ESP32 reads, and secrets into secrets.h.

A plain package: it never imports SCons, so the command line, the tests and the
PlatformIO extra script (extra_scripts/aws_iot.py) all drive the same code.
Heavy imports (cryptography, certifi) happen inside the functions that need
them, so loading the extra script on a no-op build stays cheap.
"""

# The release (pyproject.toml and library.json say the same; a test keeps them equal). The build
# glue puts it among its nodes' sources, so a new release re-renders the board's files.
__version__ = "0.2.0"

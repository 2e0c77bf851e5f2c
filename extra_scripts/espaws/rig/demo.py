"""The whole flow with no board and no AWS account, in a scratch project.

Development certificates, the board's files and secrets.h as the plugin writes them,
a local mosquitto on 127.0.0.1 with mutual TLS, and a round trip through each board's
own TLS library (BearSSL for esp8266, mbedTLS for esp32) using exactly those files.
The broker is stopped again whatever happens.
"""

import sys
from pathlib import Path

THING = "demo-thing"
LIBRARIES = {"esp8266": "bearssl", "esp32": "mbedtls"}


def add_arguments(parser):
    parser.add_argument("--workdir", default=".pio/aws_iot/demo",
                        help="scratch project for the demo (default: .pio/aws_iot/demo)")
    parser.add_argument("--timeout", type=float, default=10, help="seconds allowed for each step")
    return parser


def main(args, out=None):
    # Imported here, not at the top: `demo --help` must work without cryptography.
    from . import broker, devpki, native, probe
    from ..identity import report, provision
    from ..settings import secrets
    from ..errors import InputError
    from ..identity.writer import write_if_changed
    out = out or sys.stdout
    work = Path(args.workdir).resolve()
    say = report.Reporter(out, out, prefix="  ")
    if not broker.find_mosquitto():
        print(f"error: mosquitto is not installed: {broker.INSTALL_HINT}", file=sys.stderr)
        return 1

    print(f"1. development certificates (NOT FOR PRODUCTION) in {work / 'dev-certs'}", file=out)
    paths = devpki.write_dev_certs(work / "dev-certs")
    ca_cert, ca_key = devpki.load_ca(work / "dev-certs")
    port = broker.free_port("127.0.0.1")
    settings = {"WIFI_SSID": "demo-network", "WIFI_PASSWORD": "demo-password",
                "AWS_IOT_ENDPOINT": f"localhost:{port}", "AWS_IOT_THING_NAME": THING}

    # One data folder per board, as two envs with different boards would have on their way to the image.
    print(f"2. the board's files in {work / 'data-esp8266'} and {work / 'data-esp32'}, secrets.h in {work}",
          file=out)
    try:
        for target in LIBRARIES:
            job = provision.Job(project_dir=work, certs_dir=paths.folder, data_dir=work / f"data-{target}",
                                state_dir=work / ".state", target=target, settings=settings)
            report.prepare(job, say)
    except InputError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    write_if_changed(work / "secrets.h", secrets.render_header(settings).encode(), private=True)

    print(f"3. mosquitto on 127.0.0.1:{port}, mutual TLS 1.2, server certificate for localhost", file=out)
    failures = 0
    with broker.running_broker(work / "broker", ca_cert, ca_key, ("localhost",), port, "127.0.0.1") as running:
        for step, (target, library) in enumerate(LIBRARIES.items(), 4):
            print(f"{step}. {target}: the files in data-{target}/ through {library}, as the board loads them",
                  file=out)
            files = probe.data_files(work / f"data-{target}", target)
            outcome = probe.run_probe(files, "localhost", running.port, client_id=THING, library=library,
                                      timeout_s=args.timeout, build_dir=native.default_build_dir(work))
            for line in probe.describe(outcome, files, "localhost", running.port):
                print(f"  {line}", file=out)
            failures += not outcome.ok
    print("broker stopped", file=out)
    if failures:
        print(f"error: {failures} round trip(s) failed (see above)", file=sys.stderr)
        return 1
    print(f"done: both boards' TLS libraries made the MQTT round trip with the plugin's files. "
          "Next: put your AWS IoT files in certs/ and follow README.md.", file=out)
    return 0

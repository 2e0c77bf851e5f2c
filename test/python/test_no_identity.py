"""What "no identity" means: the state in which a firmware build goes on and the image refuses.

Absent: no certs folder, or one with no private key and no device certificate. Everything
else that is wrong with the folder is a broken identity, which stops every build.
"""

import pytest

from pkitools import Identity

from espaws.identity import pki
from espaws.errors import InputError, NoIdentity

PREFIX = "a1b2c3d4e5"


def keep(*names):
    def arrange(folder):
        Identity().write_aws_style(folder, prefix=PREFIX)
        for path in folder.iterdir():
            if path.name not in names:
                path.unlink()
    return arrange


def write(name, data):
    def arrange(folder):
        folder.mkdir(exist_ok=True)
        (folder / name).write_bytes(data)
    return arrange


ABSENT = {
    "no folder": lambda folder: None,
    "empty folder": lambda folder: folder.mkdir(),
    "the committed README only": write("README.md", b"Put the PEM files AWS IoT Core gave you here.\n"),
    "a CA only": keep("AmazonRootCA1.pem"),
    "AWS's public key only": keep(f"{PREFIX}-public.pem.key"),
    "a thing name only": write("thing.txt", b"garage"),
    "hidden files only": write(".DS_Store", b"\0\1"),
}

BROKEN = {
    "a key without its certificate": (keep(f"{PREFIX}-private.pem.key"), "no certificate in certs/ matches"),
    "a certificate without its key": (keep(f"{PREFIX}-certificate.pem.crt"), "certs/: no private key found: add"),
    "an empty .pem": (write("AmazonRootCA1.pem", b""), "holds no PEM block"),
    "a truncated CA": (write("AmazonRootCA1.pem", b"-----BEGIN CERTIFICATE-----\nMIIB\n"), "has no END line"),
    "DER where PEM belongs": (write("cert.crt", b"\x30\x82\x01\x00"), "holds no PEM block"),
}


@pytest.mark.parametrize("case", ABSENT, ids=list(ABSENT))
def test_absent(tmp_path, case):
    folder = tmp_path / "certs"
    ABSENT[case](folder)
    with pytest.raises(NoIdentity) as caught:
        pki.load_folder(folder, "certs", skip=("thing.txt",))
    (line,) = caught.value.problems
    assert line.startswith("certs/: ") and "iot-dev-certs" in line


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_is_not_absent(tmp_path, case):
    arrange, expected = BROKEN[case]
    folder = tmp_path / "certs"
    arrange(folder)
    with pytest.raises(InputError) as caught:
        pki.load_folder(folder, "certs")
    assert not isinstance(caught.value, NoIdentity)
    assert expected in str(caught.value)


def firmware_build(tmp_path, settings):
    """report.prepare as the build's default step calls it: an identity is optional."""
    import io

    from espaws.identity import report
    from espaws.settings.project import project_job
    from espaws.settings.options import Options
    opts = Options(certs_dir="certs", data_dir="", target="esp8266", key_format="pkcs8", dev_key_type="ec")
    out = io.StringIO()
    result = report.prepare(project_job(tmp_path, opts, settings), report.Reporter(out, out),
                              identity_optional=True)
    return result, out.getvalue()


def test_without_identity_other_mistakes_still_stop_the_firmware_build(tmp_path):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "README.md").write_text("put the PEM files here\n")
    result, said = firmware_build(tmp_path, {"AWS_IOT_THING_NAME": "garage"})
    assert result is None
    assert said.startswith("certs/ holds no device identity: building the firmware only;")
    assert said.count("\n") == 1
    assert not (tmp_path / "data").exists()
    with pytest.raises(InputError) as caught:
        firmware_build(tmp_path, {"AWS_IOT_THING_NAME": "garage door"})
    assert not isinstance(caught.value, NoIdentity)
    assert caught.value.problems[0].startswith("AWS_IOT_THING_NAME: the thing name may only hold")
    with pytest.raises(InputError) as caught:
        firmware_build(tmp_path, {"AWS_IOT_ENDPOINT": "mqtts://x-ats.iot.eu-west-1.amazonaws.com"})
    assert "without a scheme" in caught.value.problems[0]

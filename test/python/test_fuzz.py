"""Property tests: mutate valid inputs and hold the contract.

Whatever bytes, names or sizes certs/ holds, `prepare` either exits 0 with outputs that
belong together (the key in data/ matches the certificate in data/), or exits 1 with only
clean `error:` / `warning:` lines and data/ exactly as it was: never an exception, never a
warning from a library. Bounded: about 100 examples each, a few seconds in all.
"""

import contextlib
import io
import shutil
import tempfile
import warnings
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from espaws import cli
from conftest import snapshot
from pkitools import Identity

CERT = "a1b2c3d4e5-certificate.pem.crt"
KEY = "a1b2c3d4e5-private.pem.key"
FILES = (CERT, KEY, "AmazonRootCA1.pem")
BOUNDED = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_IDENTITY = Identity(kind="ec")
_GOOD = {}


def good_certs():
    """One valid certs folder (AWS's file names, its own CA), made once per run."""
    if not _GOOD:
        folder = Path(tempfile.mkdtemp(prefix="fuzz-certs-"))
        _IDENTITY.write_aws_style(folder)
        _GOOD.update({p.name: p.read_bytes() for p in folder.iterdir()})
        shutil.rmtree(folder)
    return dict(_GOOD)


def flip(data, index, bit):
    if not data:
        return data
    i = index % len(data)
    return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1:]


def replace_base64_char(data, index, char):
    """One character of a PEM body replaced by another base64 character (a 'damaged download')."""
    body = [i for i, b in enumerate(data) if chr(b).isalnum() or b in b"+/"]
    body = [i for i in body if b"-----" not in data[max(0, i - 40):i + 40]]
    if not body:
        return data
    i = body[index % len(body)]
    return data[:i] + char.encode() + data[i + 1:]


mutations = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 7)),
    st.tuples(st.just("b64"), st.integers(0, 10**6), st.sampled_from("AZaz09+/")),
    st.tuples(st.just("truncate"), st.integers(0, 10**6)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(max_size=64)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 200)),
    st.tuples(st.just("duplicate line"), st.integers(0, 10**6)),
    st.tuples(st.just("replace"), st.binary(max_size=300)),
)


def mutate(data, mutation):
    kind, *args = mutation
    n = max(1, len(data))
    if kind == "flip":
        return flip(data, *args)
    if kind == "b64":
        return replace_base64_char(data, *args)
    if kind == "truncate":
        return data[:args[0] % n]
    if kind == "insert":
        i = args[0] % n
        return data[:i] + args[1] + data[i:]
    if kind == "delete":
        i = args[0] % n
        return data[:i] + data[i + args[1]:]
    if kind == "duplicate line":
        lines = data.splitlines(keepends=True)
        i = args[0] % max(1, len(lines))
        return b"".join(lines[:i + 1] + lines[i:])
    return args[0]


def run_prepare(project, target):
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = cli.main(["prepare", "--project-dir", str(project), "--target", target], environ={},
                          out=out, err=err)
    return status, out.getvalue(), err.getvalue(), [str(w.message) for w in caught]


def assert_contract(project, target, before):
    status, out, err, caught = run_prepare(project, target)
    assert not caught, caught
    lines = err.splitlines()
    assert all(line.startswith(("error: ", "warning: ")) for line in lines), err
    data = project / "data"
    if status == 0:
        if target == "esp8266":
            cert = x509.load_der_x509_certificate((data / "cert.der").read_bytes())
            key = serialization.load_der_private_key((data / "private.der").read_bytes(), None)
        else:
            cert = x509.load_pem_x509_certificate((data / "cert.pem").read_bytes())
            key = serialization.load_pem_private_key((data / "private.pem").read_bytes(), None)
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        enc = serialization.Encoding.DER
        assert cert.public_key().public_bytes(enc, spki) == key.public_key().public_bytes(enc, spki)
    else:
        assert status == 1 and any(line.startswith("error: ") for line in lines), (status, err)
        assert snapshot(data) == before


@contextlib.contextmanager
def prepared_project(target, files):
    """A project whose data/ holds good outputs (so 'untouched' means something), certs/ = files."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        project = Path(folder)
        certs = project / "certs"
        certs.mkdir()
        for name, data in good_certs().items():
            (certs / name).write_bytes(data)
        assert run_prepare(project, target)[0] == 0
        (project / "data" / "user.txt").write_bytes(b"the user's own file")
        before = snapshot(project / "data")
        for name in list(certs.iterdir()):
            name.unlink()
        for name, data in files.items():
            (certs / name).write_bytes(data)
        yield project, before


@BOUNDED
@given(target=st.sampled_from(["esp8266", "esp32"]), which=st.sampled_from(FILES),
       steps=st.lists(mutations, min_size=1, max_size=3))
def test_mutated_file_keeps_the_contract(target, which, steps):
    files = good_certs()
    for step in steps:
        files[which] = mutate(files[which], step)
    with prepared_project(target, files) as (project, before):
        assert_contract(project, target, before)


@BOUNDED
@given(target=st.sampled_from(["esp8266", "esp32"]),
       extra=st.dictionaries(st.sampled_from(["x.pem", "y.crt", "z.key", "notes.txt", "bundle.cer"]),
                             st.one_of(st.binary(max_size=200),
                                       st.lists(st.sampled_from(list(good_certs().values())), max_size=3)
                                       .map(b"".join)),
                             max_size=3),
       dropped=st.sets(st.sampled_from(FILES), max_size=2))
def test_added_or_missing_files_keep_the_contract(target, extra, dropped):
    files = {name: data for name, data in good_certs().items() if name not in dropped}
    files.update(extra)
    with prepared_project(target, files) as (project, before):
        assert_contract(project, target, before)


@BOUNDED
@given(dotenv=st.one_of(st.binary(max_size=300),
                        st.text(max_size=200).map(lambda t: ("WIFI_SSID=" + t + "\nWIFI_PASSWORD=x\n"
                                                              "AWS_IOT_ENDPOINT=localhost:8883\n").encode(
                                                                  "utf-8", "surrogatepass"))))
def test_any_dotenv_keeps_the_contract(dotenv):
    with prepared_project("esp8266", good_certs()) as (project, before):
        (project / ".env").write_bytes(dotenv)
        out, err = io.StringIO(), io.StringIO()
        header = project / "sketch" / "secrets.h"
        status = cli.main(["prepare", "--project-dir", str(project), "--secrets-out", str(header)], environ={},
                          out=out, err=err)
        assert all(line.startswith(("error: ", "warning: ")) for line in err.getvalue().splitlines())
        if status == 0:
            assert header.read_text(encoding="utf-8").startswith("// Generated by")
        else:
            assert status == 1 and not header.exists()
            assert snapshot(project / "data") == before

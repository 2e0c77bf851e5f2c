"""The command line's own behaviour: dev certificates, git hygiene, options."""

import subprocess

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from conftest import run_cli
from pkitools import Identity


def test_dev_certs_then_prepare_with_them(tmp_path):
    result = run_cli("dev-certs", "--project-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "NOT FOR PRODUCTION" in result.stdout
    folder = tmp_path / "dev-certs"
    cert = x509.load_pem_x509_certificate((folder / "device-certificate.pem.crt").read_bytes())
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert "DEVELOPMENT ONLY" in cert.subject.rfc4514_string()
    prepared = run_cli("prepare", "--project-dir", tmp_path, env={"AWS_IOT_CERTS_DIR": "dev-certs"})
    assert prepared.returncode == 0, prepared.stderr
    dev_ca = x509.load_pem_x509_certificate((folder / "dev-ca.pem").read_bytes())
    assert (tmp_path / "data" / "ca.der").read_bytes() == dev_ca.public_bytes(Encoding.DER)
    again = run_cli("dev-certs", "--project-dir", tmp_path)
    assert again.returncode == 0 and "already there" in again.stdout


def test_dev_certs_rsa_on_request(tmp_path):
    assert run_cli("dev-certs", "--project-dir", tmp_path, "--key-type", "rsa").returncode == 0
    cert = x509.load_pem_x509_certificate((tmp_path / "dev-certs" / "device-certificate.pem.crt").read_bytes())
    assert isinstance(cert.public_key(), rsa.RSAPublicKey) and cert.public_key().key_size == 2048


def test_check_warns_about_tracked_secrets(tmp_path):
    Identity().write_aws_style(tmp_path / "certs")
    (tmp_path / ".env").write_text("WIFI_SSID=x\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-f", "certs", ".env"], cwd=tmp_path, check=True)
    result = run_cli("check", "--project-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning: .env is tracked by git" in result.stderr
    assert "warning: certs/a1b2c3d4e5-private.pem.key is tracked by git" in result.stderr


def test_repository_gitignore_keeps_secrets_out(tmp_path):
    from conftest import REPO
    probes = ["certs/x-private.pem.key", "certs/AmazonRootCA1.pem", "data/ca.der", "data/private.pem",
              ".env", "include/secrets.h", "src/secrets.h", "dev-certs/dev-ca.pem"]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *probes], cwd=REPO,
                             capture_output=True, text=True).stdout.split()
    assert ignored == probes
    kept = subprocess.run(["git", "check-ignore", "--no-index", "certs/README.md", "data/index.html"],
                          cwd=REPO, capture_output=True, text=True).stdout.split()
    assert kept == []


def test_plugin_requirements_match_requirements_txt():
    # PlatformIO's interpreter gets the same packages as a command-line user.
    from conftest import REPO
    source = (REPO / "extra_scripts" / "espaws" / "requirements.py").read_text()
    listed = [line.strip() for line in (REPO / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    for requirement in listed:
        assert f'"{requirement}"' in source, requirement


def test_a_verb_loads_only_its_own_module():
    """`check` never imports the broker, probe, batch or demo modules (nor their dependencies)."""
    import sys as _sys
    from conftest import REPO, clean_environ
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from espaws import cli; "
            "cli.make_parser('check').parse_args(['check']); "
            "print(sorted(m for m in sys.modules if m.split('.')[-1] in ('broker', 'probe', 'batch', 'demo')))")
    done = subprocess.run([_sys.executable, "-c", code, str(REPO / "extra_scripts")], capture_output=True,
                          text=True, env=clean_environ(), check=True)
    assert done.stdout.strip() == "[]"
    help_text = subprocess.run([_sys.executable, str(REPO / "extra_scripts" / "aws_iot.py"), "--help"],
                               capture_output=True, text=True, env=clean_environ()).stdout
    for verb in ("prepare", "check", "dev-certs", "broker", "probe", "batch", "demo"):
        assert verb in help_text


def test_without_the_packages_help_works_and_a_verb_names_the_install_command(tmp_path):
    """python -S: no site-packages, so none of requirements.txt, as in a fresh Python."""
    import sys as _sys
    from conftest import REPO, clean_environ
    script = str(REPO / "extra_scripts" / "aws_iot.py")
    for args in (["--help"], ["broker", "--help"], ["batch", "--help"]):
        shown = subprocess.run([_sys.executable, "-S", script, *args], capture_output=True, text=True,
                               env=clean_environ())
        assert shown.returncode == 0 and "usage: aws_iot.py" in shown.stdout, shown.stderr
    refused = subprocess.run([_sys.executable, "-S", script, "check", "--project-dir", str(tmp_path)],
                             capture_output=True, text=True, env=clean_environ())
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: missing Python packages: run `{_sys.executable} -m pip install ")
    for spec in ("'cryptography>=42'", "'python-dotenv>=1.0'", "'filelock>=3.12'"):
        assert spec in refused.stderr

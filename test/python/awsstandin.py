"""moto's server as the AWS stand-in: the ONE place where its deviations from AWS are corrected.

The product code follows real AWS; these corrections make moto 5.2.5 answer as AWS does, and
are applied inside this process, where ThreadedMotoServer serves requests:
- CreateCertificateFromCsr: moto issues a certificate for a NEW RSA key; AWS signs the CSR's
  public key. Here a stand-in CA (`STANDIN_CA`, an EC P-256 CA:TRUE certificate) signs the
  CSR's key, so "the certificate carries my key" holds and a broker can trust that CA.
- setAsActive=false: moto takes the query text "false" as true and activates the certificate.
- Certificate ids: AWS's id is the SHA-256 of the certificate's DER; moto's default hashes the
  PEM text. moto's own `iot.use_valid_cert` setting switches it to the DER hash.
- DescribeEndpoint: moto makes up a new prefix on every call; AWS's is fixed per account.
- Throttling: moto never throttles; `throttle(operation, times)` makes the backend answer
  ThrottlingException (HTTP 429, as AWS IoT does) that many times.
- `fail_once(operation)`: one non-retryable error, for "a run stopped between two calls".
- TestAuthorization: moto does not implement it (HTTP 500), as in an account without it.
  `STANDIN.authorize = decide` makes it answer: decide(actionType, resource) -> "ALLOWED",
  "EXPLICIT_DENY" or "IMPLICIT_DENY", to exercise the product's reading of AWS's answer.
- `deny(operation)`: AccessDeniedException (HTTP 403) with AWS's message naming the IAM action.
  moto can enforce IAM itself (`moto.core.enable_iam_authentication`), but 5.2.5 then rejects
  every signed GET of the IoT API with SignatureDoesNotMatch and answers errors in XML.
"""

import contextlib
import datetime
import json
import os
import socket

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from moto.core import config as moto_config
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.iot import models as iot_models
from moto.iot import responses as iot_responses
from moto.server import ThreadedMotoServer

REGION = "eu-west-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing"}


def _new_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "moto stand-in for the AWS IoT device CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


class StandIn:
    def __init__(self):
        self.ca_cert, self.ca_key = _new_ca()
        self.failures = {}  # operation -> [(exception factory), ...] still to raise
        self.authorize = None  # TestAuthorization's decisions, or None: not implemented (moto's 500)

    @property
    def ca_pem(self):
        return self.ca_cert.public_bytes(serialization.Encoding.PEM)

    @property
    def ca_key_pem(self):
        return self.ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())

    def sign_csr(self, csr_pem):
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        now = datetime.datetime.now(datetime.timezone.utc)
        return (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(
                    NameOID.COMMON_NAME, "AWS IoT Certificate")]))
                .issuer_name(self.ca_cert.subject).public_key(csr.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=365))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .sign(self.ca_key, hashes.SHA256())
                .public_bytes(serialization.Encoding.PEM).decode())

    def throttle(self, operation, times):
        self.failures.setdefault(operation, []).extend(
            [lambda: JsonRESTError("ThrottlingException", "Rate exceeded")] * times)

    def deny(self, operation):
        self.failures.setdefault(operation, []).append(lambda: _denied(operation))

    def fail_once(self, operation, after=0):
        """The call after `after` successful ones fails."""
        self.failures.setdefault(operation, []).extend([None] * after)
        self.failures[operation].append(
            lambda: JsonRESTError("InvalidRequestException", f"stand-in: {operation} stopped here"))

    def maybe_fail(self, operation):
        queue = self.failures.get(operation)
        if queue:
            make = queue.pop(0)
            if make is None:
                return
            error = make()
            if error.error_type == "ThrottlingException":
                error.code = 429
            if error.error_type == "AccessDeniedException":
                error.code = 403
            raise error


def _denied(operation):
    return JsonRESTError("AccessDeniedException", f"User: arn:aws:iam::123456789012:user/maker is not authorized "
                         f"to perform: iot:{operation} on resource: arn:aws:iot:{REGION}:123456789012:*")


STANDIN = StandIn()


def _install_corrections():
    backend = iot_models.IoTBackend
    if getattr(backend, "_standin_installed", False):
        return
    moto_config.default_user_config.setdefault("iot", {})["use_valid_cert"] = True

    def create_certificate_from_csr(self, csr, set_as_active):
        STANDIN.maybe_fail("CreateCertificateFromCsr")
        active = set_as_active in (True, "true", "True")  # moto reads the query text "false" as true
        return self.register_certificate(STANDIN.sign_csr(csr), ca_certificate_pem=None,
                                         set_as_active=active, status="INACTIVE")

    def describe_endpoint(self, endpoint_type):
        STANDIN.maybe_fail("DescribeEndpoint")
        endpoints = self.__dict__.setdefault("_standin_endpoints", {})
        if endpoint_type not in endpoints:
            endpoints[endpoint_type] = iot_models.FakeEndpoint(endpoint_type, self.region_name)
        return endpoints[endpoint_type]

    def test_authorization(self):
        if STANDIN.authorize is None:
            raise NotImplementedError("TestAuthorization")  # moto's own answer: HTTP 500
        infos = json.loads(self.body)["authInfos"]
        return ActionResult({"authResults": [
            {"authInfo": info, "authDecision": STANDIN.authorize(info["actionType"], info["resources"][0]),
             "missingContextValues": []} for info in infos]})

    iot_responses.IoTResponse.test_authorization = test_authorization
    backend.create_certificate_from_csr = create_certificate_from_csr
    backend.describe_endpoint = describe_endpoint
    for operation, method in (("CreateThing", "create_thing"), ("AttachThingPrincipal", "attach_thing_principal"),
                              ("AttachPolicy", "attach_policy"), ("CreatePolicy", "create_policy"),
                              ("UpdateCertificate", "update_certificate")):
        original = getattr(backend, method)

        def failing(self, *args, _operation=operation, _original=original, **kwargs):
            STANDIN.maybe_fail(_operation)
            return _original(self, *args, **kwargs)
        setattr(backend, method, failing)
    backend._standin_installed = True


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_moto():
    """moto's HTTP server on 127.0.0.1 with the corrections; yields its URL. Meanwhile the process
    environment holds the stand-in's settings and none of the developer's own AWS_* variables
    (a profile or region of theirs must not reach the tests, nor their account)."""
    _install_corrections()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    saved = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(aws_environment(url))
    try:
        yield url
    finally:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)
        server.stop()
        STANDIN.failures.clear()
        STANDIN.authorize = None


def aws_environment(url):
    """The environment boto3 needs to reach the stand-in, and nothing from the user's ~/.aws."""
    return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_EC2_METADATA_DISABLED": "true"}


def reset(url):
    """Forget every resource (moto's reset API), so tests do not see each other's things."""
    import urllib.request
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).read()

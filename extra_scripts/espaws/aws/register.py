"""`register` (arguments in aws/cli.py): from AWS credentials to a ready project in one command, safe to run again.

    python3 extra_scripts/aws_iot.py register --thing NAME [--key-type ec|rsa] [--policy NAME]
                                              [--dry-run] [--rotate] [--profile P] [--region R]

Steps (each one skipped when AWS already has it, so a rerun registers nothing new and an
interrupted run is completed, not duplicated):
 1. key on this PC (EC P-256, or RSA-2048), written to certs/.pending/ before anything else;
 2. CreateCertificateFromCsr (inactive), checked to carry this key; certificate and key into
    certs/ under AWS's download names (the key 0600);
 3. CreateThing, AttachThingPrincipal, the least-privilege policy (CreatePolicy when absent),
    AttachPolicy, then UpdateCertificate ACTIVE, last: until then the certificate is useless;
 4. DescribeEndpoint(iot:Data-ATS); AWS_IOT_ENDPOINT and AWS_IOT_THING_NAME into .env.
A rerun with the certificate in certs/ looks it up by its id (SHA-256 of its DER), so a
half-finished run resumes at the first missing step. --rotate makes a new certificate for the
thing; the old one moves to certs/.retired/ and is deactivated in AWS only after the new one
is written and active.
"""

import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..errors import InputError
from ..identity.writer import write_if_changed
from . import certfiles, dotenv_edit, policy
from .session import NOT_FOUND

CLOCK_MARGIN = timedelta(hours=1)  # between this PC's clock and AWS's, when finding a lost certificate


class Registration:
    def __init__(self, iot, project_dir, certs_name, thing, key_type="ec", policy_name=None, out=None,
                 device_folder=False, passphrase=None):
        """device_folder: `certs_name` is one device's folder of a fleet (fleet.py): the thing name goes
        into its thing.txt, and .env is left to the caller."""
        self.iot, self.project_dir, self.thing = iot, Path(project_dir), thing
        self.device_folder, self.passphrase = device_folder, passphrase
        self.certs_name = certs_name
        self.certs_dir = self.project_dir / certs_name
        self.key_type = key_type
        self.shared_policy = bool(policy_name)
        self.policy_name = policy_name or policy.policy_name_for(thing)
        self.out = out or sys.stdout

    def say(self, line):
        print(line, file=self.out)

    # ---- the certificate -----------------------------------------------------------------

    def register(self, rotate=False):
        self.writes_before = len(self.iot.writes)  # one Iot may serve many devices (fleet.py)
        # First a harmless read: no credentials, a wrong region or no permission stop us
        # before a key is made or any file written.
        endpoint = self.iot.read("DescribeEndpoint", endpointType="iot:Data-ATS")["endpointAddress"]
        pending = certfiles.load_pending(self.certs_dir, self.thing)
        current = None if pending else certfiles.installed(self.certs_dir, self.certs_name, self.passphrase)
        if pending:
            self.say(f"resuming: an earlier run made a key for {self.thing} that is not installed yet")
            arn, status = self._certificate_for_pending(*pending)
        elif current and not rotate:
            arn, status = self._registered(current)
        else:
            if current:
                self.say(f"rotating: a new certificate replaces {self._shown(current.cert_path)}")
                self._check_belongs(current)
            arn, status = self._new_certificate()
        self._complete(arn, status, endpoint)

    def _registered(self, current):
        cert_id = current.certificate_id
        found = self.iot.read("DescribeCertificate", missing=NOT_FOUND, certificateId=cert_id)
        if found is None:
            raise InputError(
                f"{self._shown(current.cert_path)} is not registered in AWS IoT for this account in region "
                f"{self.iot.client.meta.region_name}: check --profile / --region, or move the files out of "
                f"{self.certs_name}/ to register a new certificate")
        description = found["certificateDescription"]
        self._check_belongs(current, description["certificateArn"])
        self.say(f"certificate {cert_id[:10]} ({self._shown(current.cert_path)}) is registered: "
                 f"{description['status']}")
        return description["certificateArn"], description["status"]

    def _check_belongs(self, current, arn=None):
        """A certificate attached only to other things is another device's: do not take it over."""
        if arn is None:
            found = self.iot.read("DescribeCertificate", missing=NOT_FOUND, certificateId=current.certificate_id)
            if found is None:
                return
            arn = found["certificateDescription"]["certificateArn"]
        things = self.iot.read("ListPrincipalThings", principal=arn)["things"]
        if things and self.thing not in things:
            raise InputError(f"{self._shown(current.cert_path)} belongs to thing {', '.join(things)}, not "
                             f"{self.thing}: pass --thing {things[0]}, or register {self.thing} in its own "
                             "project folder")

    def _new_certificate(self):
        key = certfiles.new_key(self.key_type)
        kind = "EC P-256" if self.key_type == "ec" else "RSA-2048"
        if self.iot.dry_run:
            self.say(f"would make an {kind} key in {self.certs_name}/{certfiles.PENDING}/ "
                     "(it never leaves this PC)")
            self.iot.write("CreateCertificateFromCsr", certificateSigningRequest=certfiles.csr_pem(key, self.thing),
                           setAsActive=False)
            return None, None
        path = certfiles.write_pending(self.certs_dir, self.thing, key)
        self.say(f"made an {kind} key on this PC ({self._shown(path)})")
        return self._create_and_install(path, key)

    def _certificate_for_pending(self, path, key):
        """The certificate of a pending key: already in certs/, issued before a crash, or new."""
        cert = certfiles.installed_cert_for(self.certs_dir, key)
        if cert is None:
            cert = self._issued_for(key, since=datetime.fromtimestamp(path.stat().st_mtime, timezone.utc))
        if cert is None:
            return self._create_and_install(path, key)
        return self._install(cert, path)

    def _issued_for(self, key, since):
        """A certificate AWS issued for `key` since `since` whose answer a crash lost, or None.
        Only certificates created since then are described (one call each)."""
        marker = None
        while True:
            page = self.iot.read("ListCertificates", ascendingOrder=False, pageSize=250,
                                 **({"marker": marker} if marker else {}))
            for listed in page.get("certificates", []):
                created = listed.get("creationDate")
                if created is not None and created < since - CLOCK_MARGIN:
                    continue
                description = self.iot.read("DescribeCertificate", missing=NOT_FOUND,
                                            certificateId=listed["certificateId"])
                if description is None:
                    continue
                cert = _load_cert(description["certificateDescription"]["certificatePem"])
                if cert is not None and certfiles.same_key(cert, key):
                    self.say(f"found certificate {listed['certificateId'][:10]}, issued for this key before "
                             "the earlier run stopped")
                    return cert
            marker = page.get("nextMarker")
            if not marker:
                return None

    def _create_and_install(self, path, key):
        if self.iot.dry_run:
            self.iot.write("CreateCertificateFromCsr", certificateSigningRequest=certfiles.csr_pem(key, self.thing),
                           setAsActive=False)
            return None, None
        answer = self.iot.write("CreateCertificateFromCsr", certificateSigningRequest=certfiles.csr_pem(key, self.thing),
                                setAsActive=False)
        cert = _load_cert(answer["certificatePem"])
        if cert is None or not certfiles.same_key(cert, key):
            raise InputError(f"AWS returned certificate {answer['certificateId'][:10]} for a different key than "
                             "the CSR's: not installed (it stays INACTIVE; delete it in the AWS IoT console)")
        self.say(f"AWS issued certificate {answer['certificateId'][:10]} for this key (inactive until set up)")
        return self._install(cert, path)

    def _install(self, cert, pending_path):
        if self.iot.dry_run:
            self.say(f"would write {self.certs_name}/{certfiles.file_names(certfiles.certificate_id(cert))[0]} "
                     "and move the pending key next to it")
            found = self.iot.read("DescribeCertificate", certificateId=certfiles.certificate_id(cert))
            return found["certificateDescription"]["certificateArn"], found["certificateDescription"]["status"]
        installed = certfiles.install(self.certs_dir, cert, pending_path, self.passphrase)
        self.say(f"wrote {self._shown(installed.cert_path)} and {self._shown(installed.key_path)} (0600)")
        found = self.iot.read("DescribeCertificate", certificateId=installed.certificate_id)
        description = found["certificateDescription"]
        return description["certificateArn"], description["status"]

    # ---- the rest, each step only when missing -------------------------------------------------

    def _complete(self, arn, status, endpoint):
        if self.iot.read("DescribeThing", missing=NOT_FOUND, thingName=self.thing) is None:
            self.iot.write("CreateThing", thingName=self.thing)
        principals = [] if arn is None else self.iot.read("ListThingPrincipals", thingName=self.thing,
                                                          missing=NOT_FOUND) or {}
        if arn is None or arn not in principals.get("principals", []):
            self.iot.write("AttachThingPrincipal", thingName=self.thing, principal=arn or "<new certificate>")
        self._policy(arn)
        if status != "ACTIVE":
            self.iot.write("UpdateCertificate", certificateId=(arn or "/<new certificate>").rsplit("/", 1)[-1],
                           newStatus="ACTIVE")
        self._retire_old()
        changed_env = self._record(endpoint)
        made = len(self.iot.writes) - self.writes_before
        if self.iot.dry_run:
            self.say(f"dry run: {made} change(s) needed in AWS, nothing written")
        elif made == 0 and not changed_env:
            self.say(f"nothing new: {self.thing} is registered, its certificate ACTIVE and attached, policy "
                     f"{self.policy_name} attached, endpoint {endpoint} in .env")
        else:
            self.say(f"done: {self.thing} registered ({made} change(s) in AWS), endpoint {endpoint}. Next: "
                     "`pio run -t uploadfs`, then `pio run -t upload`")

    def _policy(self, arn):
        partition, region, account = policy.arn_parts(arn) if arn else ("aws", self.iot.client.meta.region_name, "*")
        document = policy.document(None if self.shared_policy else self.thing, region, account, partition)
        existing = self.iot.read("GetPolicy", missing=NOT_FOUND, policyName=self.policy_name)
        if existing is None:
            self.iot.write("CreatePolicy", policyName=self.policy_name, policyDocument=policy.render(document))
        elif policy.parse(existing.get("policyDocument")) != document:
            self.say(f"note: policy {self.policy_name} exists with another document: attached as it is "
                     "(`check --aws` tells whether it allows the device's topics)")
        attached = [] if arn is None else self.iot.read("ListAttachedPolicies", target=arn)["policies"]
        if self.policy_name not in [p["policyName"] for p in attached]:
            self.iot.write("AttachPolicy", policyName=self.policy_name, target=arn or "<new certificate>")

    def _retire_old(self):
        """Certificates a rotation moved to certs/.retired/: deactivated and detached once the new one is active."""
        for path, cert in certfiles.retired_certificates(self.certs_dir):
            cert_id = certfiles.certificate_id(cert)
            found = self.iot.read("DescribeCertificate", missing=NOT_FOUND, certificateId=cert_id)
            if found is None:
                continue
            description = found["certificateDescription"]
            if description["status"] == "ACTIVE":
                self.iot.write("UpdateCertificate", certificateId=cert_id, newStatus="INACTIVE")
                self.say(f"deactivated the old certificate {cert_id[:10]} ({self._shown(path)})")
            things = self.iot.read("ListPrincipalThings", principal=description["certificateArn"])["things"]
            if self.thing in things:
                self.iot.write("DetachThingPrincipal", thingName=self.thing, principal=description["certificateArn"])

    def _record(self, endpoint):
        if self.device_folder:
            return self._record_thing_file()
        outcome = dotenv_edit.update_file(self.project_dir / ".env", {"AWS_IOT_ENDPOINT": endpoint,
                                                                       "AWS_IOT_THING_NAME": self.thing},
                                          dry_run=self.iot.dry_run)
        if outcome == "unchanged":
            return False
        if outcome == "would change":
            self.say("would set AWS_IOT_ENDPOINT and AWS_IOT_THING_NAME in .env")
            return True
        self.say("set AWS_IOT_ENDPOINT and AWS_IOT_THING_NAME in .env")
        for name, value in (("AWS_IOT_ENDPOINT", endpoint), ("AWS_IOT_THING_NAME", self.thing)):
            if os.environ.get(name, value) != value:
                self.say(f"note: {name} in the environment overrides .env: unset it (export -n {name})")
        return True

    def _record_thing_file(self):
        """thing.txt: the thing name in UTF-8, no newline; `prepare`/`batch` put it on the board."""
        from ..identity import thing
        path = self.certs_dir / thing.FILE_NAME
        if self.iot.dry_run:
            if not path.is_file() or path.read_bytes() != self.thing.encode():
                self.say(f"would write {self._shown(path)}")
                return True
            return False
        changed = write_if_changed(path, self.thing.encode("utf-8"))
        if changed:
            self.say(f"wrote {self._shown(path)}")
        return changed

    def _shown(self, path):
        try:
            return str(Path(path).relative_to(self.project_dir))
        except ValueError:
            return str(path)


def _load_cert(pem):
    from cryptography import x509
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, AttributeError):
        return None

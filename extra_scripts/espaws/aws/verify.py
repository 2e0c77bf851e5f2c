"""`check --aws`: what AWS says about the identity in certs/, before the board finds out.

From the device certificate in certs/ (its AWS id is the SHA-256 of its DER): registered and
ACTIVE, attached to the thing AWS_IOT_THING_NAME, which policies are attached and whether they
allow the device's requests (client id = thing name, its topics), and whether AWS_IOT_ENDPOINT
is the account's ATS endpoint for the region. AWS's TestAuthorization answers the policy
question where the account offers it; otherwise the attached policies' text is evaluated here
and the report says so. Every problem is one line; any problem makes the check fail.
"""


from ..errors import InputError
from ..identity import endpoint as endpoints
from . import certfiles, policy
from .session import NOT_FOUND, explain

ACTION_TYPES = {"iot:Connect": "CONNECT", "iot:Publish": "PUBLISH", "iot:Subscribe": "SUBSCRIBE",
                "iot:Receive": "RECEIVE"}  # TestAuthorization has no type for iot:RetainPublish


def check(iot, certs_dir, certs_name, settings, say, single_try_client=None):
    """Report on the AWS side; raise InputError listing every problem found."""
    installed = certfiles.installed(certs_dir, certs_name, settings.get("AWS_IOT_KEY_PASSPHRASE"))
    if installed is None:
        raise InputError(f"{certs_name}/ holds no device certificate and key: run `register` first")
    cert_id = installed.certificate_id
    shown = f"{certs_name}/{installed.cert_path.name}"
    region = iot.client.meta.region_name
    found = iot.read("DescribeCertificate", missing=NOT_FOUND, certificateId=cert_id)
    if found is None:
        raise InputError(f"{shown} (certificate {cert_id[:10]}) is not registered in AWS IoT for this account in "
                         f"region {region}: run `register`, or check --profile / --region")
    description = found["certificateDescription"]
    arn = description["certificateArn"]
    problems = []
    if description["status"] == "ACTIVE":
        say(f"aws: certificate {cert_id[:10]} ({shown}) is registered and ACTIVE")
    else:
        problems.append(f"certificate {cert_id[:10]} ({shown}) is {description['status']}: AWS refuses the "
                        "board's TLS handshake; run `register` to activate it")

    thing = settings.get("AWS_IOT_THING_NAME", "")
    things = iot.read("ListPrincipalThings", principal=arn)["things"]
    if not thing:
        problems.append("AWS_IOT_THING_NAME is not set: the device would use a MAC-derived client id that no "
                        f"policy allows; set it (attached things: {', '.join(things) or 'none'})")
    elif thing in things:
        say(f"aws: attached to thing {thing}")
    else:
        problems.append(f"the certificate is not attached to thing {thing} (attached: {', '.join(things) or 'none'}):"
                        " run `register`")

    names = [p["policyName"] for p in iot.read("ListAttachedPolicies", target=arn)["policies"]]
    if not names:
        problems.append(f"no policy is attached to certificate {cert_id[:10]}: AWS closes every connection; "
                        "run `register`")
    elif thing:
        say(f"aws: policies attached: {', '.join(names)}")
        problems += _authorization(iot, single_try_client, arn, thing, names, say)

    problems += _endpoint(iot, settings.get("AWS_IOT_ENDPOINT", ""), region, say)
    if problems:
        raise InputError(problems)
    say("aws: ok, AWS will accept this device")


def _authorization(iot, single_try_client, arn, thing, names, say):
    partition, region, account = policy.arn_parts(arn)
    base = f"arn:{partition}:iot:{region}:{account}"
    wanted = policy.requests_for(thing)
    answered = _test_authorization(single_try_client, arn, thing, base, wanted, say)
    if answered is None:
        documents = [policy.parse(iot.read("GetPolicy", policyName=name)["policyDocument"]) for name in names]
        answered = {(action, resource): any(policy.allows(doc, action, f"{base}:{resource}", thing)
                                            for doc in documents if doc)
                    for action, resource in wanted}
    problems = [f"the attached policies do not allow {action} on {resource}: the device's "
                f"{'connection' if action == 'iot:Connect' else 'messages'} would be refused; run `register` "
                "or add it to the policy" for (action, resource), ok in answered.items() if not ok]
    if not problems:
        say(f"aws: the policies allow iot:Connect as {thing} and the device's topics")
    return problems


def _test_authorization(client, arn, thing, base, wanted, say):
    """{(action, resource): allowed} from AWS's TestAuthorization, or None when it cannot answer."""
    import botocore.exceptions
    asked = [(a, r) for a, r in wanted if a in ACTION_TYPES]
    try:
        answer = client.test_authorization(
            principal=arn, clientId=thing,
            authInfos=[{"actionType": ACTION_TYPES[a], "resources": [f"{base}:{r}"]} for a, r in asked])
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        say(f"aws: TestAuthorization is not available ({explain(error, 'TestAuthorization')}); "
            "not checked by AWS: the attached policies' text is checked here instead")
        return None
    decisions = {(result.get("authInfo", {}).get("actionType"), tuple(result.get("authInfo", {}).get("resources", []))):
                 result.get("authDecision") for result in answer.get("authResults", [])}
    say("aws: TestAuthorization answered for the device's requests")
    return {(a, r): decisions.get((ACTION_TYPES[a], (f"{base}:{r}",))) == "ALLOWED" for a, r in asked}


def _endpoint(iot, configured, region, say):
    actual = iot.read("DescribeEndpoint", endpointType="iot:Data-ATS")["endpointAddress"]
    if not configured:
        return [f"AWS_IOT_ENDPOINT is not set: this account's ATS endpoint in {region} is {actual}; put it in .env"]
    try:
        parsed = endpoints.parse(configured)
    except ValueError as error:
        return [f"{error}: this account's ATS endpoint in {region} is {actual}"]
    if parsed.host == actual.lower():
        say(f"aws: AWS_IOT_ENDPOINT is this account's ATS endpoint in {region}")
        return []
    why = ("a legacy (VeriSign) endpoint" if parsed.kind == "aws-legacy"
           else "not this account's ATS endpoint in " + region)
    return [f"AWS_IOT_ENDPOINT {parsed.host} is {why}: set AWS_IOT_ENDPOINT={actual} in .env (register does this)"]

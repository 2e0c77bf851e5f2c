"""boto3 the standard way, and AWS's errors as one line each.

Credentials and region come from boto3's default chain (environment, ~/.aws profiles
including SSO, instance roles); --profile and --region pick explicitly; AWS_ENDPOINT_URL
is honoured by boto3 itself. Throttled calls are retried by botocore's standard retry mode
(exponential backoff with jitter) before anything is reported.
"""

import re

from ..errors import InputError

NOT_FOUND = ("ResourceNotFoundException",)  # for read(..., missing=NOT_FOUND): None instead of an error
MAX_ATTEMPTS = 8  # botocore "standard" mode: backoff up to 20 s between attempts
NO_CREDENTIALS = ("no AWS credentials found: run `aws configure` (or `aws sso login --profile NAME` and pass "
                  "--profile NAME), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedException", "UnauthorizedOperation")
_THROTTLED = ("Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded")
_BAD_CREDENTIALS = ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
                    "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId")
_ACTION = re.compile(r"not authorized to perform:? (iot:[A-Za-z]+)")


def iot_client(profile=None, region=None, attempts=None):
    """An IoT client from the standard configuration; InputError when it cannot be made."""
    import boto3
    import botocore.config
    import botocore.exceptions
    import botocore.session
    core = botocore.session.Session(profile=profile or None)
    try:
        session = boto3.Session(botocore_session=core, region_name=region or None)
    except botocore.exceptions.ProfileNotFound:
        raise InputError(f"AWS profile {profile!r} is not in ~/.aws/config or ~/.aws/credentials: "
                         "check --profile (or AWS_PROFILE), or run `aws configure --profile NAME`") from None
    if not session.region_name:
        raise InputError("no AWS region: pass --region REGION, set AWS_REGION, or put region = ... in "
                         "~/.aws/config for the profile")
    # The user's own retry settings (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, the profile's) win.
    # total_max_attempts counts the first attempt too, as AWS_MAX_ATTEMPTS does.
    retries = {"mode": core.get_config_variable("retry_mode") or "standard",
               "total_max_attempts": attempts or int(core.get_config_variable("max_attempts") or MAX_ATTEMPTS)}
    config = botocore.config.Config(retries=retries)
    try:
        return session.client("iot", config=config)
    except (botocore.exceptions.BotoCoreError, ValueError) as error:
        raise InputError(f"cannot configure AWS IoT for region {session.region_name!r}: {error}") from None


def explain(error, operation):
    """One line for a failed AWS call: the cause and what to do. Never echoes credentials."""
    import botocore.exceptions as bx
    if isinstance(error, bx.NoCredentialsError):
        return NO_CREDENTIALS
    if isinstance(error, (bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError, bx.TokenRetrievalError)):
        return "the AWS SSO session has expired or was never started: run `aws sso login --profile NAME`"
    if isinstance(error, bx.EndpointConnectionError):
        return (f"cannot reach AWS IoT ({error.kwargs.get('endpoint_url', 'endpoint')}): check the network, "
                "--region, and AWS_ENDPOINT_URL if set")
    if isinstance(error, bx.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "") or ""
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _DENIED or (status == 403 and _ACTION.search(message)):
            match = _ACTION.search(message)
            action = match.group(1) if match else f"iot:{operation}"
            return (f"AWS denied {action} to these credentials: allow {action} in the IAM policy of your user "
                    "or role (README.md, 'IAM permissions for register' lists every action needed)")
        if code in _THROTTLED or status == 429:
            return (f"AWS kept throttling {operation} after retrying with backoff: wait a "
                    "minute and run the same command again (it resumes where it stopped)")
        if code in _BAD_CREDENTIALS:
            return (f"AWS rejected the credentials ({code}): they are wrong or expired; check "
                    "`aws sts get-caller-identity`, --profile and the AWS_* variables")
        return f"AWS {operation} failed: {code}: {message.strip() or 'no message'}"
    if isinstance(error, bx.BotoCoreError):
        return f"AWS {operation} failed: {error}"
    return None


def is_code(error, *codes):
    import botocore.exceptions
    return (isinstance(error, botocore.exceptions.ClientError)
            and error.response.get("Error", {}).get("Code") in codes)


class Iot:
    """The calls register and check make. `read` always runs; `write` runs, or in a dry run
    prints the call it would make. Every failure becomes an InputError of one line."""

    def __init__(self, client, dry_run=False, say=print):
        self.client, self.dry_run, self.say = client, dry_run, say
        self.writes = []  # the mutating calls made (or, in a dry run, that would be made)

    def read(self, operation, missing=(), **params):
        """The call's answer, or None when it fails with an error code in `missing`."""
        return self._call(operation, params, missing)

    def write(self, operation, **params):
        self.writes.append(operation)
        if self.dry_run:
            self.say(f"would call {operation}({shown_params(params)})")
            return None
        return self._call(operation, params, ())

    def _call(self, operation, params, missing):
        import botocore.exceptions
        method = getattr(self.client, _snake(operation))
        try:
            return method(**params)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            if missing and is_code(error, *missing):
                return None
            raise InputError(explain(error, operation)) from None


def shown_params(params):
    """Call parameters for a dry-run line: long values (a CSR, a policy) as their size only."""
    def show(value):
        text = str(value)
        return repr(value) if len(text) <= 80 else f"<{len(text)} characters>"
    return ", ".join(f"{name}={show(value)}" for name, value in params.items())


def _snake(operation):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()

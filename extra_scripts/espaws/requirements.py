"""What the plugin needs in the Python that runs it (PlatformIO's own has none of it).

The same lines as requirements.txt and pyproject's dependencies (a test keeps them equal).
"""

import importlib.util

REQUIREMENTS = {"cryptography": "cryptography>=42", "certifi": "certifi>=2023.7.22", "dotenv": "python-dotenv>=1.0",
                "filelock": "filelock>=3.12"}
# Only the AWS verbs (register, check --aws) need boto3 (pyproject's `aws` extra): installed
# on their first use, so a build never downloads 15 MB it does not use.
AWS_REQUIREMENTS = {"boto3": "boto3>=1.34"}
AWS_VERBS = ("register",)


def missing(wanted=REQUIREMENTS):
    """The pip specifiers of the modules in `wanted` that cannot be imported."""
    return [spec for module, spec in wanted.items() if importlib.util.find_spec(module) is None]


def missing_for(argv):
    """What a command line (verb and options, without the program) needs and lacks."""
    wanted = missing()
    if set(AWS_VERBS) & set(argv[:1]) or (argv[:1] == ["check"] and "--aws" in argv):
        wanted += missing(AWS_REQUIREMENTS)
    return wanted

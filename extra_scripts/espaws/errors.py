"""The one exception type for input the user has to fix."""


class InputError(Exception):
    """Bad input: each problem is one line naming the cause and what to do.

    Messages name files and variables, never their secret values.
    """

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class NoIdentity(InputError):
    """The certs folder holds no device identity at all: missing, empty, or only CA certificates
    and files that are not PEM (certs/README.md). A normal state where nothing writes the image
    (a CI runner building firmware), unlike an identity that is there and broken."""

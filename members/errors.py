"""The one shape of a refusal: a rule said no, with a message for the person and a code for
the program. Every app's services raise a subclass (RegistrationError, SubscriptionError, ...),
so views and admin handle them all the same way."""


class RuleError(Exception):
    """A rule refused the change; the message is translated and meant for the person, the code
    names the rule for callers and tests."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code

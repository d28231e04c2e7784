"""The errors the events app's rules raise: each carries a translated message meant for the
person who asked, and a code for tests and callers that react to one reason."""

from members.errors import RuleError


class RegistrationError(RuleError):
    """A rule refused a registration change; the message is translated and meant for the member."""


class EventError(RuleError):
    """A rule refused a change of the event itself (publishing, copying)."""

"""Signing up and reading the emails of the subscriber tests."""

from newsletters.services import subscriptions


def sign_up(hooks, email="visitor@example.org", *, topics=(), language="en", event_alerts=False, **kwargs):
    with hooks(execute=True):
        return subscriptions.subscribe(
            email,
            language=language,
            topics=list(topics),
            all_topics=not topics,
            event_alerts=event_alerts,
            consent_text=kwargs.pop("consent_text", "I agree."),
            source=kwargs.pop("source", "test"),
        )


def active_subscriber(hooks, email="reader@example.org", *, topics=(), event_alerts=False, language="en"):
    subscriber = sign_up(hooks, email, topics=topics, event_alerts=event_alerts, language=language)
    return subscriptions.confirm(subscriber, source="test")


def html_part(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def tampered(token: str) -> str:
    position = len(token) - 5  # inside the signature
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]


def sign_up_form(email="visitor@example.org", **overrides) -> dict:
    data = {"email": email, "language": "en", "all_topics": "True", "consent": "on", "website": ""}
    data.update(overrides)
    return data

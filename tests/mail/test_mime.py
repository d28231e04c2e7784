"""The message every sender builds carries its multipart boundaries from the start, so that
generating it searches no text with a regular expression compiled for one message."""

import email
from email import generator

import pytest

from mail import sending
from mail.mime import Email
from mail.models import OutgoingMessage
from newsletters import emails, rendering
from tests.newsletters.editions import make_edition, make_subscriber


@pytest.fixture
def no_boundary_search(monkeypatch):
    def refused(cls, pattern, flags=0):
        raise AssertionError(f"the generator searched the text for a boundary: {pattern}")

    monkeypatch.setattr(generator.Generator, "_compile_re", classmethod(refused))


def _parts(raw: bytes) -> tuple[list[str], list[str]]:
    parsed = email.message_from_bytes(raw)
    boundaries = [part.get_boundary() for part in parsed.walk() if part.is_multipart()]
    types = [part.get_content_type() for part in parsed.walk() if not part.is_multipart()]
    return boundaries, types


def test_a_message_with_alternatives_and_an_attachment_is_generated_without_a_search(no_boundary_search):
    message = Email(subject="Hej", body="Tekst", from_email="portal@example.org", to=["a@example.org"])
    message.attach_alternative("<p>Tekst</p>", "text/html")
    message.attach("invitation.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")

    first, second = message.message().as_bytes(), message.message().as_bytes()

    boundaries, types = _parts(first)
    assert types == ["text/plain", "text/html", "text/calendar"]
    assert len(set(boundaries)) == 2  # the mixed part and the alternatives, each its own
    assert set(boundaries).isdisjoint(_parts(second)[0])  # drawn anew for every message


def test_the_outbox_and_the_newsletter_send_such_messages(db, no_boundary_search):
    row = OutgoingMessage(
        recipient="a@example.org",
        from_email="portal@example.org",
        subject="Hej",
        body_text="Tekst",
        body_html="<p>Tekst</p>",
        message_id="<one@example.org>",
    )
    edition = make_edition()
    subscriber = make_subscriber("reader@example.org")
    newsletter = emails.build_message(
        edition, subscriber, rendering.EditionRenderer(edition), message_id="<two@example.org>"
    )
    for message in (sending._as_email(row), newsletter):
        assert isinstance(message, Email)
        assert _parts(message.message().as_bytes())[1] == ["text/plain", "text/html"]

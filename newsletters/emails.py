"""The email of a newsletter edition for one subscriber, and an organizer's test send."""

from __future__ import annotations

from email.utils import make_msgid

from django.conf import settings
from django.core.mail import get_connection
from django.utils import translation
from django.utils.translation import gettext as _

from mail.links import site_host
from mail.mime import Email
from mail.services import default_from

from . import rendering, tokens
from .models import Delivery, Edition, Subscriber


def message_id(edition: Edition, delivery: Delivery) -> str:
    # The same for every attempt of a delivery, so that a receiving system can drop a copy.
    return f"<newsletter.{edition.pk}.{delivery.pk}@{site_host()}>"


def build_message(
    edition: Edition,
    subscriber: Subscriber,
    renderer: rendering.EditionRenderer,
    *,
    message_id: str,
    subject_prefix: str = "",
) -> Email:
    links = rendering.personal_links(subscriber)
    subject, text, html = renderer.render(subscriber, links=links)
    message = Email(
        subject=subject_prefix + subject,
        body=text,
        from_email=default_from(),
        to=[subscriber.email],
        headers={**tokens.list_unsubscribe_headers(links["unsubscribe_url"]), "Message-ID": message_id},
    )
    message.attach_alternative(html, "text/html")
    return message


def send_test(edition: Edition, to_email: str, *, language: str | None = None) -> None:
    """One message to an organizer, as a subscriber would get it, subject marked as a test. No
    delivery is recorded; its personal links name no subscriber and lead nowhere. SMTP errors
    reach the caller, who shows them."""
    tester = Subscriber(
        email=to_email,
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
        status=Subscriber.Status.ACTIVE,
    )
    with translation.override(rendering.language_of(tester)):
        prefix = _("[TEST]") + " "
    message = build_message(
        edition,
        tester,
        rendering.EditionRenderer(edition),
        message_id=make_msgid(domain=site_host()),
        subject_prefix=prefix,
    )
    get_connection().send_messages([message])

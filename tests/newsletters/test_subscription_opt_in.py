"""Signing up for the newsletter: double opt-in with signed links, the form's errors and honeypot,
and the sign-up form's rate limit."""

import re
import time
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse

from mail.models import OutgoingMessage
from newsletters import tokens
from newsletters.forms import consent_text
from newsletters.models import Consent, Subscriber
from newsletters.services import subscriptions
from tests.newsletters.subscribing import active_subscriber, html_part, sign_up, sign_up_form, tampered

Status = Subscriber.Status
Action = Consent.Action

SUBSCRIBE_URL = "/newsletter/"
CONFIRM_LINK = re.compile(r"https?://[^/\s\"]+(/newsletter/confirm/[^/\s\"]+/)")
PREFERENCES_LINK = re.compile(r"https?://[^/\s\"]+(/newsletter/preferences/[^/\s\"]+/)")


# ---------------------------------------------------------------------------------------------
# Double opt-in


def test_subscribing_makes_a_pending_subscriber_and_sends_a_confirmation_with_a_working_link(
    client, charging, cycling
):
    response = client.post(
        SUBSCRIBE_URL,
        sign_up_form(language="da", all_topics="False", topics=["cycling"], event_alerts="on"),
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "Check your inbox" in page.content.decode()

    subscriber = Subscriber.objects.get(email="visitor@example.org")
    assert subscriber.status == Status.PENDING
    assert subscriber.language == "da"
    assert not subscriber.all_topics
    assert list(subscriber.topics.all()) == [cycling]
    assert subscriber.event_alerts
    assert subscriber not in Subscriber.objects.active()
    consent = subscriber.consents.get()
    assert consent.action == Action.SUBSCRIBED
    assert consent.source == "web form"
    assert consent.text == consent_text()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["visitor@example.org"]
    assert message.subject  # in Danish: the chosen language
    path = CONFIRM_LINK.search(message.body).group(1)
    assert path in html_part(message)

    # A mail scanner opening the link changes nothing.
    assert client.get(path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Status.PENDING
    assert not subscriber.consents.filter(action=Action.CONFIRMED).exists()

    response = client.post(path)
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Status.ACTIVE
    assert subscriber.confirmed_at is not None
    assert subscriber in Subscriber.objects.active()
    assert subscriber.consents.filter(action=Action.CONFIRMED, source="confirmation link").count() == 1

    # Confirming again (a second press, a reload) records nothing more.
    assert client.post(path).status_code == 200
    assert subscriber.consents.filter(action=Action.CONFIRMED).count() == 1


def test_confirmation_email_is_in_the_chosen_language_with_text_and_html(client, db):
    client.post(SUBSCRIBE_URL, sign_up_form(language="sv"))
    message = mail.outbox[-1]
    assert CONFIRM_LINK.search(message.body)
    assert CONFIRM_LINK.search(html_part(message))
    assert '<html lang="sv">' in html_part(message)
    outgoing = OutgoingMessage.objects.get(kind="newsletter_confirm")
    subscriber = Subscriber.objects.get()
    assert outgoing.idempotency_key.startswith(f"newsletter-confirm:{subscriber.pk}:")
    assert outgoing.language == "sv"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_confirmation_link_is_refused_and_changes_nothing(client, hooks, method):
    subscriber = sign_up(hooks)
    token = tokens.make(subscriber, tokens.CONFIRM)
    response = getattr(client, method)(reverse("newsletters:confirm", args=[tampered(token)]))
    assert response.status_code == 400
    assert "invalid or has expired" in response.content.decode()
    assert reverse("newsletters:subscribe") in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == Status.PENDING
    assert not subscriber.consents.filter(action=Action.CONFIRMED).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_confirmation_link_is_refused_and_changes_nothing(client, hooks, method):
    subscriber = sign_up(hooks)
    eight_days_ago = time.time() - 8 * 24 * 3600
    with mock.patch("time.time", return_value=eight_days_ago):
        token = tokens.make(subscriber, tokens.CONFIRM)
    assert tokens.read(token, tokens.CONFIRM) is None
    response = getattr(client, method)(reverse("newsletters:confirm", args=[token]))
    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Status.PENDING


def test_a_link_for_one_purpose_does_not_work_for_another(client, hooks):
    subscriber = sign_up(hooks)
    preferences_token = tokens.make(subscriber, tokens.PREFERENCES)
    assert client.post(reverse("newsletters:confirm", args=[preferences_token])).status_code == 400
    assert client.post(reverse("newsletters:unsubscribe", args=[preferences_token])).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Status.PENDING


def test_an_old_confirmation_link_does_not_undo_an_unsubscription(client, hooks):
    subscriber = active_subscriber(hooks)
    path = reverse("newsletters:confirm", args=[tokens.make(subscriber, tokens.CONFIRM)])
    subscriptions.unsubscribe(subscriber, source="test")
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED


def test_form_errors_are_shown_next_to_the_fields_and_nothing_is_sent(client, charging):
    response = client.post(
        SUBSCRIBE_URL, sign_up_form(email="not-an-address", consent="", all_topics="False", topics=["nope"])
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_email_error"' in page or "error_1_id_email" in page
    assert "error_1_id_consent" in page
    assert "error_1_id_topics" in page
    assert not Subscriber.objects.exists()
    assert not mail.outbox


def test_choosing_no_topic_at_all_is_an_error_next_to_the_topics(client, charging):
    response = client.post(SUBSCRIBE_URL, sign_up_form(all_topics="False"))
    assert response.status_code == 200
    assert "Choose at least one topic, or all topics." in response.content.decode()
    assert not Subscriber.objects.exists()


def test_a_bot_filling_in_the_hidden_field_gets_the_same_page_and_nothing_happens(client, db):
    response = client.post(SUBSCRIBE_URL, sign_up_form(website="https://spam.example"))
    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    assert not mail.outbox


def test_subscribing_an_active_address_changes_nothing_and_tells_only_its_owner(
    client, hooks, charging, cycling
):
    subscriber = active_subscriber(hooks, "reader@example.org", topics=[charging], language="da")
    mail.outbox.clear()
    consents = subscriber.consents.count()

    response = client.post(
        SUBSCRIBE_URL,
        sign_up_form(email="Reader@Example.org", language="en", all_topics="False", topics=["cycling"]),
    )
    assert response.status_code == 302
    assert response["Location"] == client.post(SUBSCRIBE_URL, sign_up_form(email="x@example.org"))["Location"]

    subscriber.refresh_from_db()
    assert subscriber.status == Status.ACTIVE
    assert subscriber.language == "da"
    assert list(subscriber.topics.all()) == [charging]
    assert subscriber.consents.count() == consents
    notes = [message for message in mail.outbox if message.to == ["reader@example.org"]]
    assert len(notes) == 1
    assert not CONFIRM_LINK.search(notes[0].body)
    assert PREFERENCES_LINK.search(notes[0].body)


# ---------------------------------------------------------------------------------------------
# Rate limit


def test_the_sign_up_form_is_rate_limited_per_client(client, db):
    for number in range(10):
        assert (
            client.post(SUBSCRIBE_URL, sign_up_form(email=f"person{number}@example.org")).status_code == 302
        )
    response = client.post(SUBSCRIBE_URL, sign_up_form(email="eleventh@example.org"))
    assert response.status_code == 429
    assert "Too many sign-ups" in response.content.decode()
    assert not Subscriber.objects.filter(email="eleventh@example.org").exists()
    assert len(mail.outbox) == 10
    other_client = client.post(
        SUBSCRIBE_URL, sign_up_form(email="elsewhere@example.org"), REMOTE_ADDR="192.0.2.7"
    )
    assert other_client.status_code == 302


def test_one_address_gets_few_confirmation_emails_however_many_clients_ask(client, db):
    for number in range(5):
        response = client.post(SUBSCRIBE_URL, sign_up_form(), REMOTE_ADDR=f"192.0.2.{number + 1}")
        assert response.status_code == 302
    assert len(mail.outbox) == 3


def test_behind_a_proxy_the_sign_up_limit_is_per_visitor(client, db, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for number in range(10):
        client.post(
            SUBSCRIBE_URL, sign_up_form(email=f"v{number}@example.org"), HTTP_X_FORWARDED_FOR="198.51.100.1"
        )
    assert (
        client.post(
            SUBSCRIBE_URL, sign_up_form(email="v10@example.org"), HTTP_X_FORWARDED_FOR="198.51.100.1"
        ).status_code
        == 429
    )
    # Another visitor behind the same proxy (same REMOTE_ADDR) is not blocked.
    assert (
        client.post(
            SUBSCRIBE_URL, sign_up_form(email="w@example.org"), HTTP_X_FORWARDED_FOR="198.51.100.2"
        ).status_code
        == 302
    )

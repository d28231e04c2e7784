"""Account emails (allauth) name the network and speak the recipient's language; the pages their
links open speak it too, unless the visitor has chosen another language (issue 11, defects 1, 6)."""

import re

import pytest
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core.context import request_context
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from mail.models import OutgoingMessage
from tests.conftest import PASSWORD, confirmation_path, make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")

LANGUAGES = ("en", "da", "sv")
# The greeting of allauth's base template in each language, here always followed by the name.
HELLO = {"en": "Hello from", "da": "Hej fra", "sv": "Hej från"}
# What the language of a message is recognized by (allauth's own catalogues).
PASSWORD_RESET_WORDS = {"en": "password reset", "da": "nulstilling", "sv": "återställning"}
EMPTY_NAME = re.compile(r"(from|fra|från) [!.]|på \.|on \.|\[\]")

LINK = re.compile(r"https?://[^\s\"<>]+")


def _assert_names_the_network(message, language):
    for text in (message.subject, message.body, _html(message)):
        assert not EMPTY_NAME.search(text), text
    assert settings.NETWORK_NAME in message.body
    assert f"{HELLO[language]} {settings.NETWORK_NAME}!" in message.body
    assert f"{HELLO[language]} {settings.NETWORK_NAME}!" in _html(message)


def _html(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def _only(kind: str, recipient: str):
    record = OutgoingMessage.objects.get(kind=kind, recipient=recipient)
    (message,) = [m for m in mail.outbox if m.to == [recipient] and m.subject == record.subject]
    return record, message


def _browser(client, language):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


@pytest.mark.parametrize("language", LANGUAGES)
def test_sign_up_confirmation_names_the_network(client, language):
    _browser(client, language).post(
        reverse("account_signup"), {"email": "new@aarhus.dk", "password1": PASSWORD, "password2": PASSWORD}
    )
    record, message = _only("email_confirmation_signup", "new@aarhus.dk")
    _assert_names_the_network(message, language)
    assert record.language == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_sign_in_code_names_the_network(client, aarhus, language):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language=language)
    _browser(client, language).post(reverse("account_request_login_code"), {"email": member.email})
    record, message = _only("login_code", member.email)
    _assert_names_the_network(message, language)
    assert record.language == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_password_reset_names_the_network(client, aarhus, language):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language=language)
    _browser(client, language).post(reverse("account_reset_password"), {"email": member.email})
    record, message = _only("password_reset_key", member.email)
    _assert_names_the_network(message, language)
    assert PASSWORD_RESET_WORDS[language] in message.body.lower()
    assert record.language == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_email_change_messages_name_the_network(client, aarhus, language):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language=language)
    client.force_login(member)
    _browser(client, language).post(reverse("account_email"), {"email": "jens@aarhus.dk", "action_add": ""})
    record, message = _only("email_confirmation", "jens@aarhus.dk")
    _assert_names_the_network(message, language)
    assert record.language == language

    client.post(confirmation_path(message))
    assert EmailAddress.objects.get(email="jens@aarhus.dk").verified
    record, message = _only("email_changed", "planner@aarhus.dk")
    _assert_names_the_network(message, language)
    assert record.language == language


# --- the recipient's language, not the browser's ---------------------------------------------


def test_password_reset_for_a_swedish_member_from_an_english_browser_is_swedish(client, aarhus):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language="sv")
    _browser(client, "en").post(reverse("account_reset_password"), {"email": member.email})
    record, message = _only("password_reset_key", member.email)
    assert record.language == "sv"
    assert "Hej från" in message.body and "återställning" in message.body
    assert "Hello from" not in message.body and "Hello from" not in _html(message)


def test_sign_in_code_for_a_danish_member_from_a_swedish_browser_is_danish(client, aarhus):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language="da")
    _browser(client, "sv").post(reverse("account_request_login_code"), {"email": member.email})
    record, message = _only("login_code", member.email)
    assert record.language == "da" and "Hej fra" in message.body


def test_a_member_without_a_preference_gets_the_language_of_the_page(client, aarhus):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language="")
    _browser(client, "da").post(reverse("account_reset_password"), {"email": member.email})
    record, message = _only("password_reset_key", member.email)
    assert record.language == "da" and "Hej fra" in message.body


def _reset_link(message) -> str:
    return next(url for url in LINK.findall(message.body) if "/password/reset/key/" in url)


def test_the_reset_link_opens_in_the_emails_language(client, aarhus):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language="sv")
    _browser(client, "en").post(reverse("account_reset_password"), {"email": member.email})
    _, message = _only("password_reset_key", member.email)
    link = _reset_link(message)
    assert "lang=sv" in link

    # A fresh visitor with an English browser: allauth moves the key into the session and
    # redirects; the page after the redirect is Swedish too.
    visitor = _browser(type(client)(), "en")
    response = visitor.get(link, follow=True)
    assert response.status_code == 200
    assert '<html lang="sv">' in response.text
    assert response.headers["Content-Language"] == "sv"


def test_a_visitor_who_chose_danish_keeps_danish_on_a_swedish_link(client, aarhus):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language="sv")
    _browser(client, "en").post(reverse("account_reset_password"), {"email": member.email})
    _, message = _only("password_reset_key", member.email)

    visitor = _browser(type(client)(), "en")
    visitor.post(reverse("set_language"), {"language": "da", "next": "/"})
    response = visitor.get(_reset_link(message), follow=True)
    assert '<html lang="da">' in response.text


def test_the_sign_up_confirmation_link_opens_in_the_language_of_sign_up(client):
    _browser(client, "sv").post(
        reverse("account_signup"), {"email": "new@aarhus.dk", "password1": PASSWORD, "password2": PASSWORD}
    )
    _, message = _only("email_confirmation_signup", "new@aarhus.dk")
    visitor = _browser(type(client)(), "en")
    response = visitor.get(confirmation_path(message) + "?lang=sv")
    assert '<html lang="sv">' in response.text
    assert "lang=sv" in next(url for url in LINK.findall(message.body) if "/confirm-email/" in url)


def test_an_unknown_lang_parameter_changes_nothing(client):
    response = _browser(client, "da").get(reverse("home") + "?lang=xx")
    assert '<html lang="da">' in response.text


def test_email_change_messages_follow_the_members_language_not_the_browsers(client, aarhus):
    member = make_member("planner@aarhus.dk", aarhus, preferred_language="sv")
    client.force_login(member)
    _browser(client, "en").post(reverse("account_email"), {"email": "jens@aarhus.dk", "action_add": ""})
    record, message = _only("email_confirmation", "jens@aarhus.dk")
    assert record.language == "sv" and "Hej från" in message.body
    client.post(confirmation_path(message))
    record, message = _only("email_changed", "planner@aarhus.dk")
    assert record.language == "sv" and "Hej från" in message.body


def test_a_notice_to_an_address_nobody_has_any_more_is_in_the_members_language(
    rf, aarhus, django_capture_on_commit_callbacks
):
    member = make_member("jens@aarhus.dk", aarhus, preferred_language="da")
    request = rf.get("/")
    request.user = member
    with (
        django_capture_on_commit_callbacks(execute=True),
        request_context(request),
        translation.override("en"),
    ):
        get_adapter(request).send_notification_mail(
            "account/email/email_changed",
            member,
            {"from_email": "planner@aarhus.dk", "to_email": member.email},
            email="planner@aarhus.dk",
        )
    record, message = _only("email_changed", "planner@aarhus.dk")
    assert record.language == "da" and "Hej fra" in message.body

"""Pages opened from a newsletter email's links speak the subscriber's language, not the
browser's, unless the visitor has chosen a language (issue 11, defect 6)."""

import re

from django.conf import settings
from django.test import Client

from newsletters import tokens
from newsletters.models import Subscriber
from tests.newsletters.subscribing import active_subscriber, sign_up

HTML_LANG = re.compile(r'<html lang="(\w+)">')


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _language(response) -> str:
    return HTML_LANG.search(response.text).group(1)


def test_the_unsubscribe_link_opens_in_the_subscribers_language(hooks):
    subscriber = active_subscriber(hooks, language="sv")
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = browser.get(_path(tokens.unsubscribe_url(subscriber)))
    assert _language(page) == "sv"
    assert "Avsluta prenumerationen på nyhetsbrevet" in page.text

    # The button posts to the page's address; the answer is Swedish too.
    done = browser.post(_path(tokens.unsubscribe_url(subscriber)))
    assert _language(done) == "sv"
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_the_preferences_and_confirmation_links_open_in_the_subscribers_language(hooks):
    danish = active_subscriber(hooks, "dansk@example.org", language="da")
    assert _language(Client(HTTP_ACCEPT_LANGUAGE="sv").get(_path(tokens.preferences_url(danish)))) == "da"
    pending = sign_up(hooks, "svensk@example.org", language="sv")
    assert _language(Client(HTTP_ACCEPT_LANGUAGE="da").get(_path(tokens.confirm_url(pending)))) == "sv"


def test_a_visitor_who_chose_danish_keeps_danish_on_a_swedish_subscribers_link(hooks):
    subscriber = active_subscriber(hooks, language="sv")
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.post("/i18n/setlang/", {"language": "da", "next": "/"})
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == "da"
    page = browser.get(_path(tokens.unsubscribe_url(subscriber)))
    assert _language(page) == "da"
    assert "Afmeld nyhedsbrevet" in page.text


def test_a_signed_in_members_own_language_wins_over_the_subscribers(hooks, member):
    member.preferred_language = "da"
    member.save()
    subscriber = active_subscriber(hooks, language="sv")
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(member)
    assert _language(browser.get(_path(tokens.unsubscribe_url(subscriber)))) == "da"

"""A visitor's newsletter journey in Danish, in a real Chromium: sign up, confirm from the
email, change topics from a signed link, unsubscribe. Every page passes axe."""

import re

import pytest
from django.utils import translation

from events.models import Theme
from events.reference import load_themes
from newsletters import tokens
from newsletters.models import Consent, Subscriber

pytestmark = pytest.mark.django_db(transaction=True)

CONFIRM_PATH = re.compile(r"https?://[^/\s]+(/newsletter/confirm/[^/\s]+/)")
EMAIL = "borger@example.dk"


def _t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def themes(db):
    """The data migration seeds them, but a transactional test empties the tables when it ends."""
    load_themes(Theme)


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_visitor_subscribes_in_danish_confirms_changes_topics_and_unsubscribes(portal, themes):
    page = portal.open("/")
    portal.switch_language("da")
    page.locator("footer a[href='/newsletter/']").click()
    page.wait_for_url("**/newsletter/")
    assert page.locator("h1").inner_text() == _t("da", "Subscribe to the newsletter")
    assert page.locator("#id_language").input_value() == "da"
    portal.assert_accessible()

    # Sending without the consent box shows the error next to it, and sends nothing.
    page.fill("#id_email", EMAIL)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#div_id_consent .invalid-feedback").is_visible()
    assert not Subscriber.objects.exists()
    portal.assert_accessible()

    page.check("#id_event_alerts")
    page.check("#id_consent")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/newsletter/?sent=1")
    assert page.locator("h1").inner_text() == _t("da", "Check your inbox")
    portal.assert_accessible()
    subscriber = Subscriber.objects.get(email=EMAIL)
    assert (subscriber.status, subscriber.language, subscriber.event_alerts) == ("pending", "da", True)

    # The link in the email shows a button; pressing it confirms.
    message = portal.last_mail_to(EMAIL)
    portal.open(CONFIRM_PATH.search(message.body).group(1))
    assert page.locator("h1").inner_text() == _t("da", "Confirm your subscription")
    portal.assert_accessible()
    subscriber.refresh_from_db()
    assert subscriber.status == "pending"
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == _t("da", "Your subscription is confirmed")
    portal.assert_accessible()
    subscriber.refresh_from_db()
    assert subscriber.status == "active"

    # Preferences from a signed link, as in every newsletter: only cycling from now on.
    portal.open(_path(tokens.preferences_url(subscriber)))
    assert page.locator("h1").inner_text() == _t("da", "Newsletter preferences")
    portal.assert_accessible()
    page.check("#id_all_topics_1")
    page.get_by_label("Cykelinfrastruktur").check()
    page.locator("form.newsletter-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".messages").inner_text().strip() == _t("da", "Your choices are saved.")
    portal.assert_accessible()
    subscriber.refresh_from_db()
    assert not subscriber.all_topics
    assert [theme.slug for theme in subscriber.topics.all()] == ["cycling"]
    assert subscriber.consents.filter(action=Consent.Action.PREFERENCES).exists()

    # One press on the preferences page unsubscribes.
    page.locator("form[action*='/newsletter/unsubscribe/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == _t("da", "You are unsubscribed")
    portal.assert_accessible()
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"
    assert not Subscriber.objects.active().exists()


def test_an_expired_or_broken_link_explains_itself(portal, themes):
    subscriber = Subscriber.objects.create(email=EMAIL, language="da")
    token = tokens.make(subscriber, tokens.CONFIRM)
    page = portal.open("/")
    portal.switch_language("da")
    response = page.goto(portal.url + f"/newsletter/confirm/{token[:-3]}xyz/")
    assert response.status == 400
    assert page.locator("h1").inner_text() == _t("da", "This link is invalid or has expired")
    assert page.locator("main a[href='/newsletter/']").count() == 1
    portal.assert_accessible()

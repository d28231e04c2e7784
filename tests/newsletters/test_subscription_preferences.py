"""A subscriber's choices after signing up: preferences, one-click unsubscribe, a member's one-click
subscription from the profile, and the audience of a set of topics."""

import re

from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from newsletters import tokens
from newsletters.models import Consent, Subscriber
from newsletters.services import subscriptions
from tests.newsletters.subscribing import active_subscriber, sign_up, sign_up_form, tampered

Status = Subscriber.Status
Action = Consent.Action

SUBSCRIBE_URL = "/newsletter/"
CONFIRM_LINK = re.compile(r"https?://[^/\s\"]+(/newsletter/confirm/[^/\s\"]+/)")


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# ---------------------------------------------------------------------------------------------
# Preferences


def test_preferences_change_topics_language_and_alerts_and_record_consent(client, hooks, charging, cycling):
    subscriber = active_subscriber(hooks)
    path = path_of(tokens.preferences_url(subscriber))
    page = client.get(path)
    assert page.status_code == 200
    assert 'name="topics"' in page.content.decode()

    response = client.post(
        path,
        {"language": "sv", "all_topics": "False", "topics": ["charging", "cycling"], "event_alerts": "on"},
    )
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.language == "sv"
    assert not subscriber.all_topics
    assert set(subscriber.topics.all()) == {charging, cycling}
    assert subscriber.event_alerts
    assert subscriber.status == Status.ACTIVE
    record = subscriber.consents.get(action=Action.PREFERENCES)
    assert record.source == "preferences page"
    assert "charging, cycling" in record.text


def test_preferences_with_no_topic_show_an_error_and_change_nothing(client, hooks, charging):
    subscriber = active_subscriber(hooks)
    path = path_of(tokens.preferences_url(subscriber))
    response = client.post(path, {"language": "da", "all_topics": "False"})
    assert response.status_code == 200
    assert "Choose at least one topic, or all topics." in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.language == "en"
    assert not subscriber.consents.filter(action=Action.PREFERENCES).exists()


def test_a_tampered_preferences_link_is_refused(client, hooks):
    subscriber = active_subscriber(hooks)
    token = tampered(tokens.make(subscriber, tokens.PREFERENCES))
    assert client.get(reverse("newsletters:preferences", args=[token])).status_code == 400
    assert (
        client.post(reverse("newsletters:preferences", args=[token]), {"language": "da"}).status_code == 400
    )


def test_preferences_of_an_unsubscribed_address_offer_no_way_back_without_opt_in(client, hooks):
    subscriber = active_subscriber(hooks)
    subscriptions.unsubscribe(subscriber, source="test")
    path = path_of(tokens.preferences_url(subscriber))
    page = client.get(path).content.decode()
    assert 'id="id_language"' not in page
    assert reverse("newsletters:subscribe") in page
    client.post(path, {"language": "da", "all_topics": "True"})
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED
    assert subscriber.language == "en"


# ---------------------------------------------------------------------------------------------
# Unsubscribing


def test_one_click_unsubscribe_works_without_a_csrf_token(hooks):
    subscriber = active_subscriber(hooks)
    path = path_of(tokens.unsubscribe_url(subscriber))
    mail_provider = Client(enforce_csrf_checks=True)
    response = mail_provider.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None
    assert subscriber not in Subscriber.objects.active()
    assert subscriber.consents.get(action=Action.UNSUBSCRIBED).source == "one-click (RFC 8058)"

    # A second one-click (providers retry) changes nothing and still answers 200.
    again = mail_provider.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert again.status_code == 200
    assert subscriber.consents.filter(action=Action.UNSUBSCRIBED).count() == 1


def test_the_unsubscribe_link_shows_a_button_and_its_press_unsubscribes(client, hooks):
    subscriber = active_subscriber(hooks)
    path = path_of(tokens.unsubscribe_url(subscriber))
    page = client.get(path)
    assert page.status_code == 200
    assert "<form" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == Status.ACTIVE

    assert client.post(path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED
    assert subscriber.consents.get(action=Action.UNSUBSCRIBED).source == "unsubscribe page"


def test_a_tampered_unsubscribe_link_is_refused(client, hooks):
    subscriber = active_subscriber(hooks)
    token = tampered(tokens.make(subscriber, tokens.UNSUBSCRIBE))
    assert client.post(reverse("newsletters:unsubscribe", args=[token])).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Status.ACTIVE


def test_unsubscribed_never_come_back_and_subscribing_again_needs_a_new_opt_in(client, hooks, charging):
    subscriber = active_subscriber(hooks, topics=[charging])
    subscriptions.unsubscribe(subscriber, source="test")
    assert not Subscriber.objects.active().exists()
    assert not Subscriber.objects.for_topics([charging]).exists()
    assert not Subscriber.objects.for_topics([]).exists()

    # Preferences do not subscribe anyone again.
    subscriptions.update_preferences(
        subscriber, topics=[], all_topics=True, language="da", event_alerts=True, source="test"
    )
    assert not Subscriber.objects.active().exists()

    mail.outbox.clear()
    client.post(SUBSCRIBE_URL, sign_up_form(email=subscriber.email))
    subscriber.refresh_from_db()
    # Issue 8: the unsubscribe stands until its owner confirms (not pending in between).
    assert subscriber.status == Status.UNSUBSCRIBED
    assert not Subscriber.objects.active().exists()
    path = CONFIRM_LINK.search(mail.outbox[-1].body).group(1)
    client.post(path)
    subscriber.refresh_from_db()
    assert subscriber.status == Status.ACTIVE
    actions = list(subscriber.consents.values_list("action", flat=True))
    assert actions[-2:] == [Action.SUBSCRIBED, Action.CONFIRMED]


def test_a_bouncing_address_needs_a_new_opt_in_too(hooks):
    subscriber = active_subscriber(hooks)
    Subscriber.objects.filter(pk=subscriber.pk).update(status=Status.BOUNCING, bounce_count=3)
    subscriber = sign_up(hooks, subscriber.email)
    assert subscriber.status == Status.PENDING
    subscriber = subscriptions.confirm(subscriber, source="test")
    assert subscriber.status == Status.ACTIVE
    assert subscriber.bounce_count == 0


# ---------------------------------------------------------------------------------------------
# Members


def test_member_subscribes_with_one_click_from_the_profile(client, member):
    member.preferred_language = "da"
    member.save()
    client.force_login(member)
    profile = client.get(reverse("members:profile")).content.decode()
    assert reverse("newsletters:subscribe_member") in profile

    response = client.post(reverse("newsletters:subscribe_member"))
    assert response.status_code == 302
    assert response["Location"] == reverse("members:profile")
    subscriber = Subscriber.objects.get(email=member.email)
    assert subscriber.status == Status.ACTIVE
    assert subscriber.user == member
    assert subscriber.language == "da"
    assert subscriber.confirmed_at is not None
    consent = subscriber.consents.get()
    assert (consent.action, consent.source) == (Action.SUBSCRIBED, "profile")
    assert consent.text

    # A second click changes nothing; the profile now links to the preferences.
    client.post(reverse("newsletters:subscribe_member"))
    assert subscriber.consents.count() == 1
    with translation.override("da"):
        receiving = translation.gettext("You receive the newsletter.")
    assert receiving != "You receive the newsletter."
    assert receiving in client.get(reverse("members:profile")).content.decode()
    to_preferences = client.get(reverse("newsletters:subscribe_member"))
    assert to_preferences.status_code == 302
    assert (
        tokens.read(to_preferences["Location"].rstrip("/").rsplit("/", 1)[-1], tokens.PREFERENCES)
        == subscriber
    )


def test_member_with_an_unverified_address_must_verify_first(client, member):
    EmailAddress.objects.filter(user=member).update(verified=False)
    client.force_login(member)
    response = client.post(reverse("newsletters:subscribe_member"), follow=True)
    assert not Subscriber.objects.exists()
    assert "Verify your email address first" in response.content.decode()


def test_member_one_click_activates_a_pending_sign_up_of_the_same_address(client, hooks, member):
    sign_up(hooks, member.email)
    client.force_login(member)
    client.post(reverse("newsletters:subscribe_member"))
    subscriber = Subscriber.objects.get(email=member.email)
    assert subscriber.status == Status.ACTIVE
    assert subscriber.user == member


def test_anonymous_one_click_goes_to_sign_in(client, db):
    response = client.post(reverse("newsletters:subscribe_member"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert not Subscriber.objects.exists()


# ---------------------------------------------------------------------------------------------
# Audience


def test_for_topics_selects_active_subscribers_of_any_of_the_topics(hooks, charging, cycling, parking):
    everything = active_subscriber(hooks, "all@example.org")
    charging_only = active_subscriber(hooks, "charging@example.org", topics=[charging])
    cycling_only = active_subscriber(hooks, "cycling@example.org", topics=[cycling])
    both = active_subscriber(hooks, "both@example.org", topics=[charging, cycling])
    sign_up(hooks, "pending@example.org", topics=[charging])
    subscriptions.unsubscribe(active_subscriber(hooks, "gone@example.org", topics=[charging]), source="test")

    assert set(Subscriber.objects.for_topics([charging])) == {everything, charging_only, both}
    assert set(Subscriber.objects.for_topics([charging, cycling])) == {
        everything,
        charging_only,
        cycling_only,
        both,
    }
    assert set(Subscriber.objects.for_topics([parking])) == {everything}
    assert set(Subscriber.objects.for_topics([])) == {everything, charging_only, cycling_only, both}

"""The subscriber side of the newsletter: double opt-in, signed links, preferences, one-click
unsubscribe, the member's one-click subscription, import and export, housekeeping of
unconfirmed sign-ups, event alerts and the sign-up form's rate limit."""

import datetime as dt
import io
import re
import time
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from events.models import Event
from mail.models import OutgoingMessage
from newsletters import tokens
from newsletters.forms import consent_text
from newsletters.models import Consent, Subscriber
from newsletters.services import alerts, imports, subscriptions
from tests import factories

Status = Subscriber.Status
Action = Consent.Action

SUBSCRIBE_URL = "/newsletter/"
CONFIRM_LINK = re.compile(r"https?://[^/\s\"]+(/newsletter/confirm/[^/\s\"]+/)")
PREFERENCES_LINK = re.compile(r"https?://[^/\s\"]+(/newsletter/preferences/[^/\s\"]+/)")
UNSUBSCRIBE_LINK = re.compile(r"https?://[^/\s\"]+/newsletter/unsubscribe/([^/\s\"]+)/")


@pytest.fixture
def hooks(db, django_capture_on_commit_callbacks):
    """Service calls outside a request commit (and so send) at the end of each with-block."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def charging(db):
    return factories.theme("charging", "Charging infrastructure")


@pytest.fixture
def cycling(db):
    return factories.theme("cycling", "Cycling")


@pytest.fixture
def parking(db):
    return factories.theme("parking", "Parking")


def _subscribe(hooks, email="visitor@example.org", *, topics=(), language="en", event_alerts=False, **kwargs):
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


def _active(hooks, email="reader@example.org", *, topics=(), event_alerts=False, language="en"):
    subscriber = _subscribe(hooks, email, topics=topics, event_alerts=event_alerts, language=language)
    return subscriptions.confirm(subscriber, source="test")


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _html(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def _tamper(token: str) -> str:
    position = len(token) - 5  # inside the signature
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]


def _form(email="visitor@example.org", **overrides) -> dict:
    data = {"email": email, "language": "en", "all_topics": "True", "consent": "on", "website": ""}
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------------------------
# Double opt-in


def test_subscribing_makes_a_pending_subscriber_and_sends_a_confirmation_with_a_working_link(
    client, charging, cycling
):
    response = client.post(
        SUBSCRIBE_URL,
        _form(language="da", all_topics="False", topics=["cycling"], event_alerts="on"),
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
    assert path in _html(message)

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
    client.post(SUBSCRIBE_URL, _form(language="sv"))
    message = mail.outbox[-1]
    assert CONFIRM_LINK.search(message.body)
    assert CONFIRM_LINK.search(_html(message))
    assert '<html lang="sv">' in _html(message)
    outgoing = OutgoingMessage.objects.get(kind="newsletter_confirm")
    subscriber = Subscriber.objects.get()
    assert outgoing.idempotency_key.startswith(f"newsletter-confirm:{subscriber.pk}:")
    assert outgoing.language == "sv"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_confirmation_link_is_refused_and_changes_nothing(client, hooks, method):
    subscriber = _subscribe(hooks)
    token = tokens.make(subscriber, tokens.CONFIRM)
    response = getattr(client, method)(reverse("newsletters:confirm", args=[_tamper(token)]))
    assert response.status_code == 400
    assert "invalid or has expired" in response.content.decode()
    assert reverse("newsletters:subscribe") in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == Status.PENDING
    assert not subscriber.consents.filter(action=Action.CONFIRMED).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_confirmation_link_is_refused_and_changes_nothing(client, hooks, method):
    subscriber = _subscribe(hooks)
    eight_days_ago = time.time() - 8 * 24 * 3600
    with mock.patch("time.time", return_value=eight_days_ago):
        token = tokens.make(subscriber, tokens.CONFIRM)
    assert tokens.read(token, tokens.CONFIRM) is None
    response = getattr(client, method)(reverse("newsletters:confirm", args=[token]))
    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Status.PENDING


def test_a_link_for_one_purpose_does_not_work_for_another(client, hooks):
    subscriber = _subscribe(hooks)
    preferences_token = tokens.make(subscriber, tokens.PREFERENCES)
    assert client.post(reverse("newsletters:confirm", args=[preferences_token])).status_code == 400
    assert client.post(reverse("newsletters:unsubscribe", args=[preferences_token])).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Status.PENDING


def test_an_old_confirmation_link_does_not_undo_an_unsubscription(client, hooks):
    subscriber = _active(hooks)
    path = reverse("newsletters:confirm", args=[tokens.make(subscriber, tokens.CONFIRM)])
    subscriptions.unsubscribe(subscriber, source="test")
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Status.UNSUBSCRIBED


def test_form_errors_are_shown_next_to_the_fields_and_nothing_is_sent(client, charging):
    response = client.post(
        SUBSCRIBE_URL, _form(email="not-an-address", consent="", all_topics="False", topics=["nope"])
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_email_error"' in page or "error_1_id_email" in page
    assert "error_1_id_consent" in page
    assert "error_1_id_topics" in page
    assert not Subscriber.objects.exists()
    assert not mail.outbox


def test_choosing_no_topic_at_all_is_an_error_next_to_the_topics(client, charging):
    response = client.post(SUBSCRIBE_URL, _form(all_topics="False"))
    assert response.status_code == 200
    assert "Choose at least one topic, or all topics." in response.content.decode()
    assert not Subscriber.objects.exists()


def test_a_bot_filling_in_the_hidden_field_gets_the_same_page_and_nothing_happens(client, db):
    response = client.post(SUBSCRIBE_URL, _form(website="https://spam.example"))
    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    assert not mail.outbox


def test_subscribing_an_active_address_changes_nothing_and_tells_only_its_owner(
    client, hooks, charging, cycling
):
    subscriber = _active(hooks, "reader@example.org", topics=[charging], language="da")
    mail.outbox.clear()
    consents = subscriber.consents.count()

    response = client.post(
        SUBSCRIBE_URL,
        _form(email="Reader@Example.org", language="en", all_topics="False", topics=["cycling"]),
    )
    assert response.status_code == 302
    assert response["Location"] == client.post(SUBSCRIBE_URL, _form(email="x@example.org"))["Location"]

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
# Preferences


def test_preferences_change_topics_language_and_alerts_and_record_consent(client, hooks, charging, cycling):
    subscriber = _active(hooks)
    path = _path(tokens.preferences_url(subscriber))
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
    subscriber = _active(hooks)
    path = _path(tokens.preferences_url(subscriber))
    response = client.post(path, {"language": "da", "all_topics": "False"})
    assert response.status_code == 200
    assert "Choose at least one topic, or all topics." in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.language == "en"
    assert not subscriber.consents.filter(action=Action.PREFERENCES).exists()


def test_a_tampered_preferences_link_is_refused(client, hooks):
    subscriber = _active(hooks)
    token = _tamper(tokens.make(subscriber, tokens.PREFERENCES))
    assert client.get(reverse("newsletters:preferences", args=[token])).status_code == 400
    assert (
        client.post(reverse("newsletters:preferences", args=[token]), {"language": "da"}).status_code == 400
    )


def test_preferences_of_an_unsubscribed_address_offer_no_way_back_without_opt_in(client, hooks):
    subscriber = _active(hooks)
    subscriptions.unsubscribe(subscriber, source="test")
    path = _path(tokens.preferences_url(subscriber))
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
    subscriber = _active(hooks)
    path = _path(tokens.unsubscribe_url(subscriber))
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
    subscriber = _active(hooks)
    path = _path(tokens.unsubscribe_url(subscriber))
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
    subscriber = _active(hooks)
    token = _tamper(tokens.make(subscriber, tokens.UNSUBSCRIBE))
    assert client.post(reverse("newsletters:unsubscribe", args=[token])).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Status.ACTIVE


def test_unsubscribed_never_come_back_and_subscribing_again_needs_a_new_opt_in(client, hooks, charging):
    subscriber = _active(hooks, topics=[charging])
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
    client.post(SUBSCRIBE_URL, _form(email=subscriber.email))
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
    subscriber = _active(hooks)
    Subscriber.objects.filter(pk=subscriber.pk).update(status=Status.BOUNCING, bounce_count=3)
    subscriber = _subscribe(hooks, subscriber.email)
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
    _subscribe(hooks, member.email)
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
    everything = _active(hooks, "all@example.org")
    charging_only = _active(hooks, "charging@example.org", topics=[charging])
    cycling_only = _active(hooks, "cycling@example.org", topics=[cycling])
    both = _active(hooks, "both@example.org", topics=[charging, cycling])
    _subscribe(hooks, "pending@example.org", topics=[charging])
    subscriptions.unsubscribe(_active(hooks, "gone@example.org", topics=[charging]), source="test")

    assert set(Subscriber.objects.for_topics([charging])) == {everything, charging_only, both}
    assert set(Subscriber.objects.for_topics([charging, cycling])) == {
        everything,
        charging_only,
        cycling_only,
        both,
    }
    assert set(Subscriber.objects.for_topics([parking])) == {everything}
    assert set(Subscriber.objects.for_topics([])) == {everything, charging_only, cycling_only, both}


# ---------------------------------------------------------------------------------------------
# Import and export


def _csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def test_an_import_with_bad_rows_imports_nothing_and_reports_the_rows(charging):
    result = imports.import_subscribers(
        _csv(
            "email,language,topics\n"
            "good@example.org,da,charging\n"
            "not an address,en,\n"
            "other@example.org,fr,\n"
            "third@example.org,sv,charging;nope\n"
            "Good@Example.org,en,\n"
        ),
        source="Network day 2026",
        consent_text="Sign-up sheet",
    )
    assert not result.ok
    assert result.created == 0
    assert [error.row for error in result.errors] == [3, 4, 5, 6]
    assert "nope" in result.errors[2].message
    assert "row 2" in result.errors[3].message
    assert not Subscriber.objects.exists()
    assert not Consent.objects.exists()


def test_an_import_needs_the_header(db):
    result = imports.import_subscribers(_csv("mail,lang\nx@example.org,en\n"), source="List", consent_text="")
    assert [error.row for error in result.errors] == [1]
    assert not Subscriber.objects.exists()


def test_a_good_import_creates_active_subscribers_with_consent_and_skips_known_addresses(
    hooks, charging, cycling
):
    left = _active(hooks, "left@example.org")
    subscriptions.unsubscribe(left, source="test")
    reader = _active(hooks, "reader@example.org", topics=[cycling])
    result = imports.import_subscribers(
        _csv(
            "\ufeffEmail,Language,Topics\n"
            "new@example.org,da,charging;cycling\n"
            "all@example.org,sv,\n"
            "LEFT@example.org,en,\n"
            "reader@example.org,en,charging\n"
        ),
        source="Network day 2026",
        consent_text="I want the newsletter.",
    )
    assert result.ok
    assert result.created == 2
    assert [(row.row, row.email) for row in result.skipped] == [
        (4, "left@example.org"),
        (5, "reader@example.org"),
    ]

    new = Subscriber.objects.get(email="new@example.org")
    assert (new.status, new.language, new.all_topics) == (Status.ACTIVE, "da", False)
    assert set(new.topics.all()) == {charging, cycling}
    assert new.confirmed_at is not None
    consent = new.consents.get()
    assert (consent.action, consent.source, consent.text) == (
        Action.IMPORTED,
        "Network day 2026",
        "I want the newsletter.",
    )
    assert Subscriber.objects.get(email="all@example.org").all_topics

    left.refresh_from_db()
    assert left.status == Status.UNSUBSCRIBED
    assert not left.consents.filter(action=Action.IMPORTED).exists()
    reader.refresh_from_db()
    assert list(reader.topics.all()) == [cycling]
    assert reader.language == "en"


def test_export_has_a_row_per_subscriber(hooks, charging):
    _active(hooks, "b@example.org", topics=[charging], event_alerts=True)
    _subscribe(hooks, "a@example.org")
    rows = list(imports.export_rows())
    assert [row[:5] for row in rows] == [
        ["a@example.org", "pending", "en", "", "no"],
        ["b@example.org", "active", "en", "charging", "yes"],
    ]
    assert rows[0][6] == ""
    assert rows[1][6]


def test_the_import_command_reports_rows(tmp_path, charging):
    path = tmp_path / "list.csv"
    path.write_text("email,language,topics\nfirst@example.org,en,charging\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_subscribers", str(path), "--source", "Old list", stdout=out)
    assert "Imported 1" in out.getvalue()
    assert Subscriber.objects.get().status == Status.ACTIVE


# ---------------------------------------------------------------------------------------------
# Housekeeping


def test_stale_pending_sign_ups_are_removed_and_the_rest_kept(hooks, settings):
    settings.NEWSLETTER_PENDING_DAYS = 14
    long_ago = timezone.now() - dt.timedelta(days=20)
    stale = _subscribe(hooks, "stale@example.org")
    fresh = _subscribe(hooks, "fresh@example.org")
    confirmed = _active(hooks, "confirmed@example.org")
    asked_again = _active(hooks, "again@example.org")
    subscriptions.unsubscribe(asked_again, source="test")
    Subscriber.objects.filter(pk__in=[stale.pk, confirmed.pk, asked_again.pk]).update(created_at=long_ago)
    Consent.objects.filter(subscriber__in=[stale, confirmed]).update(at=long_ago)
    # Asked again today: the address stays unsubscribed until its owner confirms (issue 8).
    _subscribe(hooks, "again@example.org")

    assert subscriptions.remove_stale_pending() == 1
    assert set(Subscriber.objects.values_list("email", flat=True)) == {
        "fresh@example.org",
        "confirmed@example.org",
        "again@example.org",
    }
    assert not Consent.objects.filter(subscriber_id=stale.pk).exists()
    # An address with an unsubscribe on its record is never cleaned up (issue 8).
    assert subscriptions.remove_stale_pending(dt.timedelta(0)) == 1
    assert set(Subscriber.objects.all()) == {confirmed, asked_again}
    assert fresh.email != confirmed.email


# ---------------------------------------------------------------------------------------------
# Event alerts


def test_event_alerts_go_once_per_event_and_subscriber_and_only_to_matching_topics(
    hooks, charging, cycling, parking
):
    event = factories.event(title="Charging hubs", capacities=(20, 12), main_theme=charging)
    event.themes.add(parking)
    everything = _active(hooks, "all@example.org", event_alerts=True)
    on_main = _active(hooks, "charging@example.org", topics=[charging], event_alerts=True, language="da")
    on_other = _active(hooks, "parking@example.org", topics=[parking], event_alerts=True)
    _active(hooks, "cycling@example.org", topics=[cycling], event_alerts=True)
    _active(hooks, "quiet@example.org", topics=[charging], event_alerts=False)
    _subscribe(hooks, "pending@example.org", topics=[charging], event_alerts=True)
    subscriptions.unsubscribe(
        _active(hooks, "gone@example.org", topics=[charging], event_alerts=True), source="test"
    )
    mail.outbox.clear()

    with hooks(execute=True):
        assert alerts.send_event_alerts(event) == 3
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [everything.email, on_main.email, on_other.email]
    )
    message = next(message for message in mail.outbox if message.to == [everything.email])
    assert "Charging hubs" in message.subject
    assert "Charging hubs" in message.body
    assert event.get_absolute_url() in message.body
    assert "20 seats left" in message.body and "12 seats left" in message.body
    assert tokens.read(UNSUBSCRIBE_LINK.search(message.body).group(1), tokens.UNSUBSCRIBE) == everything
    assert tokens.read(UNSUBSCRIBE_LINK.search(_html(message)).group(1), tokens.UNSUBSCRIBE) == everything
    assert event.get_absolute_url() in _html(message)
    assert OutgoingMessage.objects.filter(idempotency_key=f"event-alert:{event.pk}:{everything.pk}").exists()
    danish = next(message for message in mail.outbox if message.to == [on_main.email])
    assert '<html lang="da">' in _html(danish)

    # However often the job runs, nobody gets a second alert about the same event.
    mail.outbox.clear()
    with hooks(execute=True):
        assert alerts.send_event_alerts(event) == 0
    assert not mail.outbox
    # Someone who subscribes later gets the alert on the next run, and only they.
    late = _active(hooks, "late@example.org", topics=[parking], event_alerts=True)
    mail.outbox.clear()
    with hooks(execute=True):
        assert alerts.send_event_alerts(event) == 1
    assert [message.to for message in mail.outbox] == [[late.email]]


def test_alerts_carry_one_click_unsubscribe_headers(hooks, charging):
    _active(hooks, "all@example.org", event_alerts=True)
    event = factories.event(main_theme=charging)
    mail.outbox.clear()
    with hooks(execute=True):
        alerts.send_event_alerts(event)
    headers = mail.outbox[0].extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        "/newsletter/unsubscribe/" in headers["List-Unsubscribe"] and "mailto:" in headers["List-Unsubscribe"]
    )


def test_the_periodic_job_alerts_once_when_registration_opens(hooks, charging):
    _active(hooks, "all@example.org", event_alerts=True)
    now = timezone.now()
    later = factories.event(main_theme=charging, opens_at=now + dt.timedelta(days=2))
    opened = factories.event(main_theme=charging)
    mail.outbox.clear()
    with hooks(execute=True):
        assert alerts.send_due_event_alerts() == 1
        assert alerts.send_due_event_alerts() == 0
    assert len(mail.outbox) == 1 and opened.title in mail.outbox[0].subject
    with hooks(execute=True):
        assert alerts.send_due_event_alerts(at=now + dt.timedelta(days=3)) == 1
    assert later.title in mail.outbox[-1].subject


def test_an_alert_queued_before_unsubscribing_is_not_sent(hooks, charging):
    from mail import services as outbox_services

    subscriber = _active(hooks, "all@example.org", event_alerts=True)
    event = factories.event(main_theme=charging)
    alerts.send_event_alerts(event)  # written, but its transaction has not published it
    subscriptions.unsubscribe(subscriber, source="test")
    mail.outbox.clear()
    record = OutgoingMessage.objects.get(kind="event_alert")
    assert outbox_services.deliver(record.pk) is False
    record.refresh_from_db()
    assert record.status == OutgoingMessage.Status.WITHDRAWN and not mail.outbox


def test_no_alerts_about_a_draft(hooks, charging):
    _active(hooks, "all@example.org", event_alerts=True)
    draft = factories.event(status=Event.Status.DRAFT, main_theme=charging)
    assert alerts.send_event_alerts(draft) == 0


# ---------------------------------------------------------------------------------------------
# Rate limit


def test_the_sign_up_form_is_rate_limited_per_client(client, db):
    for number in range(10):
        assert client.post(SUBSCRIBE_URL, _form(email=f"person{number}@example.org")).status_code == 302
    response = client.post(SUBSCRIBE_URL, _form(email="eleventh@example.org"))
    assert response.status_code == 429
    assert "Too many sign-ups" in response.content.decode()
    assert not Subscriber.objects.filter(email="eleventh@example.org").exists()
    assert len(mail.outbox) == 10
    other_client = client.post(SUBSCRIBE_URL, _form(email="elsewhere@example.org"), REMOTE_ADDR="192.0.2.7")
    assert other_client.status_code == 302


def test_one_address_gets_few_confirmation_emails_however_many_clients_ask(client, db):
    for number in range(5):
        response = client.post(SUBSCRIBE_URL, _form(), REMOTE_ADDR=f"192.0.2.{number + 1}")
        assert response.status_code == 302
    assert len(mail.outbox) == 3


# ---------------------------------------------------------------------------------------------
# Admin


def test_organizer_sees_subscribers_with_read_only_status_and_consent(client, hooks, organizer, charging):
    subscriber = _active(hooks, topics=[charging])
    client.force_login(organizer)
    changelist = client.get(reverse("admin:newsletters_subscriber_changelist"))
    assert changelist.status_code == 200
    assert subscriber.email in changelist.content.decode()
    assert reverse("admin:newsletters_subscriber_import") in changelist.content.decode()

    change_url = reverse("admin:newsletters_subscriber_change", args=[subscriber.pk])
    page = client.get(change_url).content.decode()
    assert 'name="status"' not in page
    assert "Confirmed the subscription" in page
    assert client.get(reverse("admin:newsletters_subscriber_add")).status_code == 403

    # A forged status in the POST is ignored; preferences go through the service.
    response = client.post(
        change_url,
        {
            "status": "pending",
            "language": "sv",
            "all_topics": "",
            "topics": [charging.pk],
            "event_alerts": "on",
            "consents-TOTAL_FORMS": "0",
            "consents-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    subscriber.refresh_from_db()
    assert subscriber.status == Status.ACTIVE
    assert subscriber.language == "sv"
    assert subscriber.consents.get(action=Action.PREFERENCES).source == f"admin: {organizer.email}"


def test_organizer_exports_and_unsubscribes_selected(client, hooks, organizer):
    one = _active(hooks, "one@example.org")
    two = _active(hooks, "two@example.org")
    client.force_login(organizer)
    url = reverse("admin:newsletters_subscriber_changelist")
    export = client.post(url, {"action": "export_selected_csv", "_selected_action": [one.pk, two.pk]})
    assert export["Content-Type"].startswith("text/csv")
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(imports.EXPORT_COLUMNS)
    assert [line.split(",")[0] for line in lines[1:]] == ["one@example.org", "two@example.org"]

    client.post(url, {"action": "unsubscribe_selected", "_selected_action": [one.pk]})
    one.refresh_from_db()
    assert one.status == Status.UNSUBSCRIBED
    assert one.consents.get(action=Action.UNSUBSCRIBED).source == f"admin: {organizer.email}"


def test_organizer_imports_a_list_in_admin_and_bad_rows_import_nothing(client, organizer, charging):
    client.force_login(organizer)
    url = reverse("admin:newsletters_subscriber_import")
    assert client.get(url).status_code == 200

    bad = io.BytesIO(b"email,language,topics\nfine@example.org,en,\nbroken,en,\n")
    bad.name = "bad.csv"
    response = client.post(url, {"file": bad, "source": "Network day", "consent_text": "Yes"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "<td>3</td>" in page
    assert not Subscriber.objects.exists()

    good = io.BytesIO(b"email,language,topics\nfine@example.org,en,charging\n")
    good.name = "good.csv"
    response = client.post(url, {"file": good, "source": "Network day", "consent_text": "Yes"})
    assert response.status_code == 302
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Status.ACTIVE
    assert subscriber.consents.get().source == "Network day"


def test_import_needs_a_source(client, organizer):
    client.force_login(organizer)
    upload = io.BytesIO(b"email,language,topics\nfine@example.org,en,\n")
    upload.name = "list.csv"
    response = client.post(reverse("admin:newsletters_subscriber_import"), {"file": upload, "source": ""})
    assert response.status_code == 200
    assert not Subscriber.objects.exists()


def test_consent_records_cannot_be_written_by_hand_but_go_with_an_erased_subscriber(
    client, hooks, organizer, superuser
):
    subscriber = _active(hooks)
    client.force_login(organizer)
    assert client.get(reverse("admin:newsletters_consent_add")).status_code == 403
    consent = subscriber.consents.first()
    page = client.get(reverse("admin:newsletters_consent_change", args=[consent.pk])).content.decode()
    assert 'name="source"' not in page

    client.force_login(superuser)
    delete_url = reverse("admin:newsletters_subscriber_delete", args=[subscriber.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Subscriber.objects.exists()
    assert not Consent.objects.exists()


def test_a_non_staff_member_cannot_reach_the_import(client, member):
    client.force_login(member)
    response = client.get(reverse("admin:newsletters_subscriber_import"))
    assert response.status_code == 302


def test_behind_a_proxy_the_sign_up_limit_is_per_visitor(client, db, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for number in range(10):
        client.post(SUBSCRIBE_URL, _form(email=f"v{number}@example.org"), HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert (
        client.post(
            SUBSCRIBE_URL, _form(email="v10@example.org"), HTTP_X_FORWARDED_FOR="198.51.100.1"
        ).status_code
        == 429
    )
    # Another visitor behind the same proxy (same REMOTE_ADDR) is not blocked.
    assert (
        client.post(
            SUBSCRIBE_URL, _form(email="w@example.org"), HTTP_X_FORWARDED_FOR="198.51.100.2"
        ).status_code
        == 302
    )

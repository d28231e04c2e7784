"""Rules that live once, in a service or a selector, and every caller goes through: publishing
and copying an event, an organizer's schedule change, who sees a meeting link, the consent
text, the topics rule, and the one shape of a refusal."""

import datetime as dt
import html

import pytest
from django.urls import reverse

from events import errors, notifications, selectors
from events.calendar import registration_calendar
from events.models import Event, Registration
from events.services import lifecycle, registrations
from mail.models import OutgoingMessage
from members.errors import RuleError
from newsletters import delivery
from newsletters.models import Consent, Subscriber
from newsletters.services import subscriptions
from tests import factories
from tests.admin_forms import form_data

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED = Registration.Status.CONFIRMED, Registration.Status.WAITLISTED


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def _act(client, action: str, events, **extra):
    data = {"action": action, "_selected_action": [event.pk for event in events], **extra}
    return client.post(reverse("admin:events_event_changelist"), data, follow=True)


# --- publishing ------------------------------------------------------------------------------


def test_publish_event_dates_the_publication_and_promotes_the_waiting_list(member, other_member, organizer):
    event = factories.event(capacities=(1,))
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    waiting = registrations.register(other_member, occasion)
    # Taken back to a draft with a seat more: nobody was promoted while it was not published.
    Event.objects.filter(pk=event.pk).update(status=Event.Status.DRAFT, published_at=None)
    occasion.capacity = 2
    occasion.save()
    assert registrations.promote_waitlist(event) == []

    assert lifecycle.publish_event(event, organizer=organizer) is True

    event.refresh_from_db()
    waiting.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED and event.published_at is not None
    assert waiting.status == CONFIRMED
    # Publishing again changes nothing, the date included.
    first = event.published_at
    assert lifecycle.publish_event(event, organizer=organizer) is False
    event.refresh_from_db()
    assert event.published_at == first


def test_a_cancelled_event_is_not_published_again_from_admin(organizer_client, organizer, member):
    event = factories.event()
    registrations.register(member, event.occasions.get())
    lifecycle.cancel_event(event, organizer=organizer)

    response = _act(organizer_client, "publish", [event])

    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    texts = [str(message) for message in response.context["messages"]]
    assert any("is cancelled; copy it to plan it again" in text for text in texts), texts
    with pytest.raises(errors.EventError) as refused:
        lifecycle.publish_event(event, organizer=organizer)
    assert refused.value.code == "cancelled"


# --- copying ---------------------------------------------------------------------------------


def test_a_copy_belongs_to_the_team_of_its_source(superuser):
    other_team = factories.organizer_team("Cycling team")
    event = factories.event(team=other_team)

    copy = lifecycle.copy_event(event, shift=dt.timedelta(days=7), organizer=superuser)

    assert copy.team == other_team and copy.status == Event.Status.DRAFT


def test_an_organizer_may_not_copy_another_teams_event(organizer):
    event = factories.event(team=factories.organizer_team("Cycling team"))

    with pytest.raises(errors.EventError) as refused:
        lifecycle.copy_event(event, shift=dt.timedelta(days=7), organizer=organizer)

    assert refused.value.code == "forbidden"
    assert Event.objects.count() == 1


# --- an organizer's schedule change ----------------------------------------------------------


def test_change_schedule_compares_with_the_schedule_read_before_saving(member):
    event = factories.event()
    occasion = event.occasions.get()
    registrations.register(member, occasion)

    def save():
        occasion.online_url = "https://meet.example.org/new-room"
        occasion.save()

    change = lifecycle.change_schedule(event, save)

    assert change.notified == 1 and change.promoted == 0
    assert OutgoingMessage.objects.filter(kind="event_changed", recipient=member.email).count() == 1


@pytest.mark.parametrize("page", ["occasion", "event"])
def test_a_new_meeting_link_saved_in_admin_is_told_to_participants(organizer_client, member, page):
    event = factories.event()
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    if page == "occasion":
        url, form_id, field = reverse("admin:events_occasion_change", args=[occasion.pk]), "occasion_form", ""
    else:
        url, form_id, field = (
            reverse("admin:events_event_change", args=[event.pk]),
            "event_form",
            "occasions-0-",
        )
    data = form_data(organizer_client.get(url), form_id)
    data[f"{field}online_url"] = ["https://meet.example.org/new-room"]

    response = organizer_client.post(url, data, follow=True)

    assert response.status_code == 200
    occasion.refresh_from_db()
    assert occasion.online_url == "https://meet.example.org/new-room"
    assert OutgoingMessage.objects.filter(kind="event_changed", recipient=member.email).count() == 1
    texts = [str(message) for message in response.context["messages"]]
    assert "1 participant is told about the change." in texts


# --- who sees the meeting link ---------------------------------------------------------------


def _draft(event, organizer):
    Event.objects.filter(pk=event.pk).update(status=Event.Status.DRAFT)


def _cancelled(event, organizer):
    lifecycle.cancel_event(event, organizer=organizer)


@pytest.mark.parametrize(
    ("status", "change", "sees_link"),
    [
        (CONFIRMED, None, True),
        (WAITLISTED, None, False),
        (CONFIRMED, _draft, False),
        (CONFIRMED, _cancelled, False),
    ],
    ids=["confirmed", "waiting", "draft", "cancelled"],
)
def test_the_meeting_link_rule_is_the_same_on_the_page_in_emails_and_calendar_files(
    client, member, other_member, organizer, status, change, sees_link
):
    event = factories.event(capacities=(1,))
    occasion = event.occasions.get()
    holder = registrations.register(member, occasion)
    waiting = registrations.register(other_member, occasion)
    registration = holder if status == CONFIRMED else waiting
    if change is not None:
        change(event, organizer)
    registration = Registration.objects.select_related("event", "occasion").get(pk=registration.pk)
    link = occasion.online_url

    client.force_login(registration.user)
    page = client.get(event.get_absolute_url()).content.decode()
    seen = {
        "rule": selectors.meeting_link_for(registration) == link,
        "page": link in html.unescape(page),
        "email": notifications._context(registration)["meeting_link"] == link,
        "calendar": link.encode() in registration_calendar(registration).replace(b"\r\n ", b""),
    }
    assert seen == dict.fromkeys(seen, sees_link)


# --- the consent text ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "da", "sv"])
def test_the_stored_consent_text_is_the_one_shown_on_the_profile(client, member, language):
    member.preferred_language = language
    member.save()
    client.force_login(member)
    profile = html.unescape(client.get(reverse("members:profile")).content.decode())

    client.post(reverse("newsletters:subscribe_member"))

    consent = Consent.objects.get(subscriber=Subscriber.objects.get(email=member.email))
    assert consent.text and consent.text in profile


# --- small rules, one definition each --------------------------------------------------------


def test_every_refusal_has_the_one_shape_of_a_rule_error():
    for error in (
        errors.RegistrationError,
        subscriptions.SubscriptionError,
        delivery.EditionStateError,
    ):
        refusal = error("Not now.", "not_now")
        assert isinstance(refusal, RuleError) and (refusal.message, refusal.code) == ("Not now.", "not_now")


def test_the_topics_rule_is_the_services_on_every_form(db):
    from newsletters.admin_subscribers import SubscriberAdminForm
    from newsletters.forms import PreferencesForm

    factories.theme()
    with pytest.raises(subscriptions.SubscriptionError) as refused:
        subscriptions.check_topics([], all_topics=False)
    message = refused.value.message
    preferences = PreferencesForm({"language": "en", "all_topics": "False"})
    admin_form = SubscriberAdminForm({"language": "en", "all_topics": ""})

    assert not preferences.is_valid() and preferences.errors["topics"] == [message]
    assert not admin_form.is_valid() and admin_form.errors["topics"] == [message]

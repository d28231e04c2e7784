"""Publishing and cancelling as buttons on the event's page: the publication checklist (one
case per rule, blocking or a warning), the publish page and "Save and publish", the cancel page
with its count and personal note, and the list action that now asks before it writes to
anyone."""

import datetime as dt
import zoneinfo

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from events import checklist, errors
from events.models import AgendaItem, ContactPerson, DayPart, Event, Occasion, Registration
from events.services import lifecycle, registrations
from mail.models import OutgoingMessage
from tests import factories
from tests.admin_forms import form_data
from tests.events.admin_pages import admin_log, events_url, messages_of, run_action

pytestmark = pytest.mark.usefixtures("reference_organizations")

COPENHAGEN = zoneinfo.ZoneInfo("Europe/Copenhagen")
BLOCKING, WARNING = checklist.BLOCKING, checklist.WARNING


@pytest.fixture(autouse=True)
def _in_english():
    # The messages are compared as written in the source, whatever an earlier test activated.
    with translation.override("en"):
        yield


def ready_event(**kwargs) -> Event:
    """An event the checklist has nothing to say about: a date, seats, a meeting link, a contact
    person and a programme inside its day part (13:00–16:30 Copenhagen time)."""
    event = factories.event(**kwargs)
    event.contacts.add(ContactPerson.objects.create(name="Karen Holm", email="karen@kl.dk"))
    part = DayPart.objects.filter(occasion__event=event).first()
    if part is not None:
        AgendaItem.objects.create(
            event=event,
            day_part=1,
            starts=timezone.localtime(part.starts_at).time(),
            ends=(timezone.localtime(part.starts_at) + dt.timedelta(hours=1)).time(),
            title="Welcome",
            kind=AgendaItem.Kind.ORGANIZER_TALK,
        )
    return event


def codes(event: Event) -> dict[str, str]:
    return {item.code: item.severity for item in checklist.publication_checklist(event).items}


def publish_url(event) -> str:
    return reverse("admin:events_event_publish", args=[event.pk])


def cancel_url(event) -> str:
    return reverse("admin:events_event_cancel", args=[event.pk])


def change_url(event) -> str:
    return reverse("admin:events_event_change", args=[event.pk])


def _update(event, **fields):
    Event.objects.filter(pk=event.pk).update(**fields)
    event.refresh_from_db()


# --- the checklist, one rule each -------------------------------------------------------------


def test_a_ready_event_has_nothing_on_its_checklist():
    found = checklist.publication_checklist(ready_event())
    assert not found and found.items == ()
    assert len(found.passed) == len(checklist.TOPICS)


def _no_occasion(event):
    event.occasions.all().delete()
    lifecycle.refresh_schedule(event)


def _no_date(event):
    DayPart.objects.filter(occasion__event=event).delete()
    lifecycle.refresh_schedule(event)


def _no_seats(event):
    Occasion.objects.filter(event=event).update(capacity=0)


def _day_part_zero(event):
    DayPart.objects.filter(occasion__event=event).update(number=0)
    AgendaItem.objects.filter(event=event).update(day_part=0)


def _overlapping_day_parts(event):
    first, second = DayPart.objects.filter(occasion__event=event).order_by("number")
    second.starts_at = first.ends_at - dt.timedelta(hours=1)
    second.ends_at = first.ends_at + dt.timedelta(hours=1)
    second.save()
    lifecycle.refresh_schedule(event)


def _closes_after_the_end(event):
    _update(event, registration_closes_at=event.ends_at + dt.timedelta(days=1))


def _registration_closed(event):
    now = timezone.now()
    _update(
        event,
        registration_opens_at=now - dt.timedelta(days=9),
        registration_closes_at=now - dt.timedelta(days=2),
    )


def _event_over(event):
    now = timezone.now()
    DayPart.objects.filter(occasion__event=event).update(
        starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(days=3) + dt.timedelta(hours=2)
    )
    lifecycle.refresh_schedule(event)
    _update(
        event,
        registration_opens_at=now - dt.timedelta(days=9),
        registration_closes_at=now - dt.timedelta(days=4),
    )


def _closes_after_the_start(event):
    _update(event, registration_closes_at=event.starts_at + dt.timedelta(hours=1))


def _cancellation_after_the_end(event):
    _update(event, cancellation_deadline=event.ends_at + dt.timedelta(days=365))


def _cancellation_before_opening(event):
    _update(event, cancellation_deadline=event.registration_opens_at - dt.timedelta(days=1))


def _quota_zero(event):
    _update(event, organization_quota=0)


def _quota_above_seats(event):
    _update(event, organization_quota=100)


def _release_before_opening(event):
    _update(event, organization_quota=2, quota_release_at=event.registration_opens_at - dt.timedelta(days=1))


def _no_contact(event):
    event.contacts.clear()


def _no_programme(event):
    event.agenda_items.all().delete()


def _item_outside_its_day_part(event):
    # 21:00–23:00 for a meeting of the afternoon.
    AgendaItem.objects.filter(event=event).update(starts=dt.time(21), ends=dt.time(23))


def _item_in_a_day_part_that_does_not_exist(event):
    AgendaItem.objects.filter(event=event).update(day_part=3)


def _in_person_without_a_place(event):
    _update(event, format=Event.Format.IN_PERSON)


def _online_without_a_link(event):
    Occasion.objects.filter(event=event).update(online_url="")


RULES = [
    # (what is wrong, the item's code, its severity, how the factory event is made so)
    ("no occasion", "no_occasion", BLOCKING, _no_occasion),
    ("no date", "no_date", BLOCKING, _no_date),
    ("no seats", "no_seats", BLOCKING, _no_seats),
    ("day part 0", "number_from_one", BLOCKING, _day_part_zero),
    ("overlapping day parts", "day_parts_overlap", BLOCKING, _overlapping_day_parts),
    ("registration closes after the end", "registration_after_end", BLOCKING, _closes_after_the_end),
    ("registration already closed", "registration_closed", BLOCKING, _registration_closed),
    ("registration closes after the start", "registration_after_start", WARNING, _closes_after_the_start),
    ("cancellation deadline after the end", "cancellation_after_end", BLOCKING, _cancellation_after_the_end),
    (
        "cancellation deadline before opening",
        "cancellation_before_opening",
        WARNING,
        _cancellation_before_opening,
    ),
    ("0 seats per organization", "quota_zero", BLOCKING, _quota_zero),
    ("seats per organization above all seats", "quota_above_seats", BLOCKING, _quota_above_seats),
    ("seats released before registration opens", "release_before_opening", BLOCKING, _release_before_opening),
    ("no contact person", "no_contact", WARNING, _no_contact),
    ("no programme", "no_programme", WARNING, _no_programme),
    ("programme item outside its day part", "outside_day_part", BLOCKING, _item_outside_its_day_part),
    (
        "programme item in a missing day part",
        "no_such_day_part",
        BLOCKING,
        _item_in_a_day_part_that_does_not_exist,
    ),
    ("in person without venue or address", "no_place", WARNING, _in_person_without_a_place),
    ("online without a meeting link", "no_meeting_link", WARNING, _online_without_a_link),
    ("the event is over", "event_over", WARNING, _event_over),
]


@pytest.mark.parametrize(
    ("code", "severity", "make"), [rule[1:] for rule in RULES], ids=[rule[0] for rule in RULES]
)
def test_each_checklist_rule_names_its_problem_with_its_severity(code, severity, make):
    event = ready_event(capacities=(10,), half_days=2 if make is _overlapping_day_parts else 1)
    make(event)
    event.refresh_from_db()

    found = codes(event)

    assert found.get(code) == severity, found
    item = next(item for item in checklist.publication_checklist(event).items if item.code == code)
    assert item.message and "_" not in item.message.split(":")[0]  # words, not a code


def test_registration_closing_before_it_opens_is_blocking_as_the_form_says():
    # The database refuses the row; the checklist reads the event as given.
    event = ready_event()
    event.registration_closes_at = event.registration_opens_at

    item = next(
        item
        for item in checklist.publication_checklist(event).items
        if item.field == "registration_closes_at"
    )

    assert item.severity == BLOCKING and item.message == "Registration must close after it opens."


def test_an_event_that_is_over_is_not_also_blocked_for_its_closed_registration():
    event = ready_event()
    _event_over(event)
    assert "registration_closed" not in codes(event)


def test_blocking_items_come_first_and_each_topic_without_items_is_all_good():
    event = ready_event()
    _no_date(event)
    _no_contact(event)

    found = checklist.publication_checklist(event)

    assert [item.severity for item in found.items][0] == BLOCKING
    assert "Contact person" not in found.passed and "Seats" in found.passed


# --- publishing refuses what cannot work -------------------------------------------------------


def test_publish_event_refuses_a_draft_with_blocking_items(organizer):
    event = ready_event(status=Event.Status.DRAFT)
    _no_date(event)

    with pytest.raises(errors.EventError) as refused:
        lifecycle.publish_event(event, organizer=organizer)

    assert refused.value.code == "not_ready"
    assert "has no date yet" in refused.value.message
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT and event.published_at is None


def test_publish_event_publishes_despite_warnings(organizer):
    event = factories.event(status=Event.Status.DRAFT)  # no contact person, no programme
    assert set(codes(event).values()) == {WARNING}

    assert lifecycle.publish_event(event, organizer=organizer) is True


def test_the_publish_list_action_reports_the_blocking_items(organizer_client):
    event = ready_event(status=Event.Status.DRAFT)
    _no_date(event)

    response = run_action(organizer_client, events_url(), "publish", [event])

    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT
    assert any("has no date yet" in text for _level, text in messages_of(response))


# --- the publish page ----------------------------------------------------------------------------


def test_get_shows_the_checklist_grouped_and_publishes_nothing(organizer_client):
    event = ready_event(status=Event.Status.DRAFT)
    _no_date(event)
    _no_contact(event)

    response = organizer_client.get(publish_url(event))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Must fix" in page and "Worth a look" in page and "All good" in page
    assert "has no date yet" in page and "No contact person" in page
    # Each item links to where it is fixed on the event's page.
    assert f'href="{change_url(event)}#occasions-group"' in page
    assert f'href="{change_url(event)}#id_contacts"' in page
    assert 'name="confirm"' not in page  # something blocks
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT


def test_get_offers_the_publish_button_when_nothing_blocks(organizer_client):
    event = factories.event(status=Event.Status.DRAFT)

    page = organizer_client.get(publish_url(event)).content.decode()

    assert 'name="confirm"' in page
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT


def test_confirm_publishes_logs_and_returns_to_the_event(organizer_client, organizer):
    event = factories.event(status=Event.Status.DRAFT)

    response = organizer_client.post(publish_url(event), {"confirm": "1"})

    assert response.status_code == 302 and response["Location"] == change_url(event)
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED and event.published_at is not None
    assert admin_log(event, organizer).get().get_change_message() == "Published."
    followed = organizer_client.get(response["Location"])
    assert any("is published" in text for _level, text in messages_of(followed))


def test_confirm_on_a_blocked_event_publishes_nothing_and_says_why(organizer_client):
    event = ready_event(status=Event.Status.DRAFT)
    _no_seats(event)

    response = organizer_client.post(publish_url(event), {"confirm": "1"})

    assert response.status_code == 200
    assert any("cannot be published yet" in text for _level, text in messages_of(response))
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT


def test_a_post_without_the_confirm_button_publishes_nothing(organizer_client):
    event = factories.event(status=Event.Status.DRAFT)

    organizer_client.post(publish_url(event), {})

    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT


@pytest.mark.parametrize("url", [publish_url, cancel_url], ids=["publish", "cancel"])
def test_another_teams_organizer_gets_404(client, organizer, url):
    event = factories.event(status=Event.Status.DRAFT, team=factories.organizer_team("Cycling team"))
    client.force_login(organizer)

    assert client.get(url(event)).status_code == 404
    assert client.post(url(event), {"confirm": "1"}).status_code == 404
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT


# --- "Save and publish" -----------------------------------------------------------------------


def test_save_and_publish_is_offered_on_a_drafts_form_only(organizer_client):
    draft = factories.event(status=Event.Status.DRAFT)
    published = factories.event()

    assert 'name="_publish"' in organizer_client.get(change_url(draft)).content.decode()
    assert 'name="_publish"' not in organizer_client.get(change_url(published)).content.decode()
    assert 'name="_publish"' in organizer_client.get(reverse("admin:events_event_add")).content.decode()


def test_save_and_publish_saves_then_shows_the_checklist(organizer_client):
    event = factories.event(status=Event.Status.DRAFT)  # warnings: no contact, no programme
    data = form_data(organizer_client.get(change_url(event)), "event_form")
    data["title"] = ["Charging meeting"]
    data["_publish"] = ["Save and publish"]

    response = organizer_client.post(change_url(event), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert response["Location"] == publish_url(event)
    event.refresh_from_db()
    assert event.title == "Charging meeting" and event.status == Event.Status.DRAFT


def test_save_and_publish_publishes_at_once_when_the_checklist_is_empty(organizer_client, organizer):
    event = ready_event(status=Event.Status.DRAFT)
    data = form_data(organizer_client.get(change_url(event)), "event_form")
    data["_publish"] = ["Save and publish"]

    response = organizer_client.post(change_url(event), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert response["Location"] == change_url(event)
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert admin_log(event, organizer).filter(change_message="Published.").exists()


def test_the_add_form_creates_a_draft_whatever_status_is_posted(organizer_client):
    """The issue: "The add form lets one create an event directly as Published or Cancelled"."""
    url = reverse("admin:events_event_add")
    page = organizer_client.get(url)
    assert 'name="status"' not in page.content.decode()
    data = form_data(page, "event_form")
    data.update(
        {
            "title": ["Cycling cities"],
            "slug": ["cycling-cities"],
            "main_theme": [str(factories.theme().pk)],
            "summary": ["How cities build for bikes."],
            "format": ["online"],
            "language": ["en"],
            "registration_opens_at_0": ["2030-01-01"],
            "registration_opens_at_1": ["09:00"],
            "registration_closes_at_0": ["2030-02-01"],
            "registration_closes_at_1": ["09:00"],
            "status": ["published"],
            "_publish": ["Save and publish"],
        }
    )

    response = organizer_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(slug="cycling-cities")
    assert event.status == Event.Status.DRAFT and event.published_at is None
    # "Save and publish" on the add form: saved, then the checklist (no date yet blocks).
    assert response["Location"] == publish_url(event)


# --- the cancel page ------------------------------------------------------------------------------


def _registered(event, member, other_member):
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    registrations.register(other_member, occasion)  # waiting: one seat


def test_the_cancel_page_says_how_many_people_are_told_and_sends_nothing(
    organizer_client, member, other_member
):
    event = factories.event(capacities=(1,))
    _registered(event, member, other_member)
    before = OutgoingMessage.objects.count()

    response = organizer_client.get(cancel_url(event))

    page = response.content.decode()
    assert "1 confirmed participant and 1 person on the waiting list will be told by email." in page
    assert 'name="note"' in page and 'name="confirm"' in page
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert OutgoingMessage.objects.count() == before


def _html(message):
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def test_confirm_cancels_with_the_note_in_both_parts_of_the_email(
    organizer_client, organizer, member, other_member, django_capture_on_commit_callbacks
):
    event = factories.event(capacities=(1,))
    _registered(event, member, other_member)
    mail.outbox.clear()
    note = "We meet again in May <b>instead</b> & bring your slides."

    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.post(cancel_url(event), {"note": note, "confirm": "1"})

    assert response.status_code == 302 and response["Location"] == change_url(event)
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    assert admin_log(event, organizer).get().get_change_message() == "Cancelled."
    sent = [message for message in mail.outbox if message.subject.startswith("Cancelled:")]
    assert sorted(message.to[0] for message in sent) == sorted([member.email, other_member.email])
    for message in sent:
        assert note in message.body
        html = _html(message)
        assert "We meet again in May &lt;b&gt;instead&lt;/b&gt; &amp; bring your slides." in html
        assert "<b>instead</b>" not in html


def test_a_cancellation_without_a_note_says_nothing_more(
    organizer_client, member, django_capture_on_commit_callbacks
):
    event = factories.event()
    registrations.register(member, event.occasions.get())
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        organizer_client.post(cancel_url(event), {"note": "", "confirm": "1"})

    message = next(message for message in mail.outbox if message.subject.startswith("Cancelled:"))
    assert "border-left" not in _html(message)


def test_a_cancelled_event_offers_no_second_cancellation(organizer_client, organizer):
    event = factories.event()
    lifecycle.cancel_event(event, organizer=organizer)

    page = organizer_client.get(cancel_url(event)).content.decode()

    assert "cancelled already" in page and 'name="confirm"' not in page
    organizer_client.post(cancel_url(event), {"confirm": "1"})
    assert not LogEntry.objects.filter(object_id=str(event.pk)).exists()


# --- the list action asks first ---------------------------------------------------------------


def test_the_cancel_list_action_asks_for_confirmation_before_anything_is_sent(
    organizer_client, member, other_member
):
    """The issue: "Cancel event runs at once and emails everyone, with no confirmation step"."""
    event = factories.event(capacities=(1,))
    _registered(event, member, other_member)
    before = OutgoingMessage.objects.filter(kind="event_cancelled").count()

    response = run_action(organizer_client, events_url(), "cancel_event", [event])

    page = response.content.decode()
    assert "1 confirmed participant and 1 person on the waiting list will be told by email." in page
    assert 'name="note"' in page
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert OutgoingMessage.objects.filter(kind="event_cancelled").count() == before


def test_the_cancel_list_action_applies_on_confirmation_with_the_note(organizer_client, organizer, member):
    event = factories.event()
    registrations.register(member, event.occasions.get())

    run_action(organizer_client, events_url(), "cancel_event", [event], apply="1", note="See you in May.")

    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    notice = OutgoingMessage.objects.get(kind="event_cancelled")
    assert notice.about["note"] == "See you in May."
    assert admin_log(event, organizer).count() == 1


def test_no_registration_is_changed_by_a_cancellation(organizer_client, member):
    event = factories.event()
    registration = registrations.register(member, event.occasions.get())

    organizer_client.post(cancel_url(event), {"confirm": "1"})

    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_an_item_about_a_date_links_to_its_date_input(organizer_client):
    event = ready_event(status=Event.Status.DRAFT)
    _registration_closed(event)

    page = organizer_client.get(publish_url(event)).content.decode()

    assert f'href="{change_url(event)}#id_registration_closes_at_0"' in page
    assert 'id="id_registration_closes_at_0"' in organizer_client.get(change_url(event)).content.decode()


def test_the_cancel_page_of_an_event_nobody_registered_for_says_no_email_is_sent(organizer_client):
    event = factories.event(status=Event.Status.DRAFT)

    page = organizer_client.get(cancel_url(event)).content.decode()

    assert "Nobody is registered, so no email is sent." in page


def test_a_status_posted_to_the_change_form_changes_nothing(organizer_client, member):
    event = factories.event()
    registrations.register(member, event.occasions.get())
    data = form_data(organizer_client.get(change_url(event)), "event_form")
    data["status"] = ["cancelled"]

    response = organizer_client.post(change_url(event), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert not OutgoingMessage.objects.filter(kind="event_cancelled").exists()

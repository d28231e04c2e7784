"""An event's dashboard (seats, waiting lists with reasons, registrations per day, emails, links)
and its "copy as next meeting" page."""

import datetime as dt
import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from events import notifications
from events.models import Event, Registration
from events.services import lifecycle, registrations
from mail.models import OutgoingMessage
from members.models import Organization
from tests import factories
from tests.conftest import make_member
from tests.events.admin_pages import make_members

pytestmark = pytest.mark.usefixtures("reference_organizations")
Status = OutgoingMessage.Status


def dashboard_url(event: Event) -> str:
    return reverse("admin:events_event_dashboard", args=[event.pk])


def copy_url(event: Event) -> str:
    return reverse("admin:events_event_copy", args=[event.pk])


def _text(html: str) -> str:
    """The page's words without tags and runs of white space, as a reader meets them."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def full_event(organizer, aarhus, odense, member, colleague, other_member):
    """Two occasions (2 and 3 seats), two seats per organization: Aarhus fills its quota on the
    first occasion, so a third Aarhus planner waits for the quota on the second; Odense waits for
    the full first occasion, and has a seat on the second; one Odense registration is cancelled."""
    event = factories.event(title="Charging infrastructure", capacities=(2, 3), quota=2)
    first, second = event.occasions.order_by("starts_at")
    registrations.register(member, first)
    registrations.register(colleague, first)
    registrations.register(make_member("third@aarhus.dk", aarhus, full_name="Third Aarhus"), second)
    registrations.register(other_member, first)
    registrations.register(make_member("second@odense.dk", odense), second)
    gone = registrations.register(make_member("gone@odense.dk", odense), second)
    registrations.cancel(gone, actor=organizer)
    return event


# --- what the page shows ----------------------------------------------------------------------


def test_seats_per_occasion_and_organization_match_the_registrations(
    organizer_client, full_event, aarhus, odense
):
    response = organizer_client.get(dashboard_url(full_event))

    assert response.status_code == 200
    seats = response.context["seats"]
    assert [(o.capacity, o.confirmed_count, o.waitlisted_count, o.free) for o in seats.occasions] == [
        (2, 2, 1, 0),
        (3, 1, 1, 2),
    ]
    assert seats.totals == {"capacity": 5, "confirmed": 3, "waitlisted": 2, "free": 2}
    organizations = {
        row["organization__name"]: (row["confirmed"], row["waitlisted"], row["left"], row["scale"])
        for row in response.context["organizations"]
    }
    assert organizations == {aarhus.name: (2, 1, 0, 2), odense.name: (1, 1, 1, 2)}
    html = response.content.decode()
    # Each bar is a meter whose numbers are also written out next to it.
    assert '<meter aria-hidden="true" min="0" max="2" value="2"></meter>' in html
    assert '<meter aria-hidden="true" min="0" max="3" value="1"></meter>' in html
    text = _text(html)
    assert "Occasion 1 " in text and "2 of 2" in text and "1 of 3" in text
    # No inline style or script: the CSP allows neither.
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_the_occupancy_page_reads_the_same_seats(organizer_client, full_event):
    dashboard = organizer_client.get(dashboard_url(full_event)).context["seats"]
    occupancy = organizer_client.get(reverse("admin:events_event_occupancy", args=[full_event.pk])).context

    assert occupancy["totals"] == dashboard.totals
    assert [row["left"] for row in occupancy["organizations"]] == [
        row["left"] for row in dashboard.organizations
    ]


def test_waiting_lists_say_why_each_person_waits(organizer_client, full_event):
    response = organizer_client.get(dashboard_url(full_event))

    lists = response.context["waiting_lists"]
    assert [
        [(w.position, w.registration.user.email, w.reason, w.derived) for w in waiting_list.people]
        for waiting_list in lists
    ] == [
        [(1, "planner@odense.dk", "The occasion is full", False)],
        [(1, "third@aarhus.dk", "The organization's seats are used", False)],
    ]
    text = _text(response.content.decode())
    assert "Occasion 1: 1 waiting" in text
    assert "Lars Odense Odense Kommune" in text and "The occasion is full" in text
    assert "Third Aarhus Aarhus Kommune" in text and "The organization's seats are used" in text


def test_a_waiting_registration_without_a_stored_reason_gets_one_from_the_seats_now(
    organizer_client, full_event
):
    Registration.objects.filter(user__email="planner@odense.dk").update(wait_reason="")

    lists = organizer_client.get(dashboard_url(full_event)).context["waiting_lists"]

    waiting = lists[0].people[0]
    assert (waiting.reason, waiting.derived) == ("The occasion is full", True)


def test_the_fair_policy_lists_organizations_without_a_seat_first(organizer_client, aarhus, odense, member):
    event = factories.event(capacities=(1,), policy=Event.WaitlistPolicy.FAIR)
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    aarhus_second = registrations.register(make_member("second@aarhus.dk", aarhus), occasion)
    odense_first = registrations.register(make_member("first@odense.dk", odense), occasion)

    people = organizer_client.get(dashboard_url(event)).context["waiting_lists"][0].people

    assert [(w.position, w.registration) for w in people] == [(1, odense_first), (2, aarhus_second)]


def test_registrations_and_cancellations_per_day(organizer_client, organizer, aarhus):
    event = factories.event(capacities=(10,))
    occasion = event.occasions.get()
    people = make_members(aarhus, 3, "day")
    made = [registrations.register(person, occasion) for person in people]
    registrations.cancel(made[2], actor=organizer)

    def at(day: int):
        return timezone.make_aware(dt.datetime(2026, 3, day, 12))

    Registration.objects.filter(pk__in=[made[0].pk, made[1].pk]).update(created_at=at(2))
    Registration.objects.filter(pk=made[2].pk).update(created_at=at(4), cancelled_at=at(4))

    response = organizer_client.get(dashboard_url(event))

    assert [(day.day, day.new, day.cancelled) for day in response.context["days"]] == [
        (dt.date(2026, 3, 2), 2, 0),
        (dt.date(2026, 3, 4), 1, 1),
    ]
    chart = response.context["chart"]
    # Every day is a column, the quiet one too, so that time runs evenly.
    assert [(c.day.day, c.new_height, c.cancelled_height) for c in chart.get("columns")] == [
        (dt.date(2026, 3, 2), 60, 0),
        (dt.date(2026, 3, 3), 0, 0),
        (dt.date(2026, 3, 4), 30, 30),
    ]
    html = response.content.decode()
    assert html.count('class="timeline-new"') == 2 and html.count('class="timeline-cancelled"') == 1
    text = _text(html)
    assert "new registrations, 3 in all. Striped bars below it: cancellations, 1 in all." in text
    assert "Registrations and cancellations per day" in text


def test_emails_are_counted_per_kind_and_status_in_words(
    organizer_client, organizer, member, other_member, colleague
):
    event = factories.event(capacities=(1,))
    occasion = event.occasions.get()
    confirmed = registrations.register(member, occasion)
    registrations.register(other_member, occasion)  # waits
    OutgoingMessage.objects.filter(kind="registration_confirmed").update(status=Status.SENT)
    lifecycle.message_participants(event, subject="Parking", body="Use the north gate.", organizer=organizer)
    OutgoingMessage.objects.filter(kind="organizer_message").update(status=Status.FAILED)
    notifications.reminder(confirmed, 1)
    # Another event's messages are not this one's.
    registrations.register(colleague, factories.event().occasions.get())

    response = organizer_client.get(dashboard_url(event))

    counts = {
        count.kind: (count.label, count.sent, count.pending, count.failed, count.withdrawn)
        for count in response.context["emails"]
    }
    assert counts == {
        "registration_confirmed": ("Registration confirmed", 1, 0, 0, 0),
        "registration_waitlisted": ("On the waiting list", 0, 1, 0, 0),
        "reminder": ("Reminder", 0, 1, 0, 0),
        "organizer_message": ("Message from the organizers", 0, 0, 1, 0),
    }
    text = _text(response.content.decode())
    assert "Message from the organizers 0 0 1 0 1" in text
    assert "organizer_message" not in text


def test_cancellation_and_change_notices_count_for_the_event(
    organizer_client, organizer, member, other_member
):
    event = factories.event(capacities=(5,))
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    registrations.register(other_member, occasion)
    part = occasion.day_parts.get()

    def move_an_hour_later():
        part.starts_at += dt.timedelta(hours=1)
        part.ends_at += dt.timedelta(hours=1)
        part.save()

    lifecycle.change_schedule(event, move_an_hour_later)
    lifecycle.cancel_event(event, organizer=organizer)

    counts = {
        count.kind: count.total for count in organizer_client.get(dashboard_url(event)).context["emails"]
    }

    assert counts["event_changed"] == 2
    assert counts["event_cancelled"] == 2


def test_quick_links(organizer_client, full_event):
    html = organizer_client.get(dashboard_url(full_event)).content.decode()

    for name in ["participants", "participants_csv", "participants_xlsx", "copy", "change"]:
        assert f'href="{reverse(f"admin:events_event_{name}", args=[full_event.pk])}"' in html
    registrations_list = (
        reverse("admin:events_registration_changelist") + f"?event__id__exact={full_event.pk}"
    )
    assert f'href="{registrations_list}"' in html


def test_the_event_page_links_to_the_dashboard(organizer_client, full_event):
    page = organizer_client.get(reverse("admin:events_event_change", args=[full_event.pk])).content.decode()

    assert f'href="{dashboard_url(full_event)}"' in page
    assert f'href="{copy_url(full_event)}"' in page


# --- who may see it ---------------------------------------------------------------------------


def _other_team_organizer(organizer) -> object:
    other = make_member("organizer@other.dk", organizer.organization, full_name="Other Team")
    other.is_staff = True
    other.save()
    other.user_permissions.set(organizer.user_permissions.all())
    factories.organizer_team("Other team", other)
    return other


@pytest.mark.parametrize("url", [dashboard_url, copy_url])
def test_another_teams_organizer_gets_404(client, organizer, full_event, url):
    client.force_login(_other_team_organizer(organizer))

    assert client.get(url(full_event)).status_code == 404
    assert client.post(url(full_event), {"days": "7"}).status_code == 404
    assert Event.objects.count() == 1


@pytest.mark.parametrize("url", [dashboard_url, copy_url])
def test_a_member_is_sent_to_the_admin_login(client, member, full_event, url):
    client.force_login(member)

    response = client.get(url(full_event))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_seeing_the_event_is_not_seeing_who_waits(client, organizer, full_event):
    staff = make_member("assistant@kl.dk", organizer.organization, full_name="Assistant")
    staff.is_staff = True
    staff.save()
    factories.organizer_team().members.add(staff)
    client.force_login(staff)

    assert client.get(dashboard_url(full_event)).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_event"))
    response = client.get(dashboard_url(full_event))

    assert response.status_code == 200
    assert response.context["waiting_lists"] == []
    html = response.content.decode()
    assert "Lars Odense" not in html and "planner@odense.dk" not in html
    assert reverse("admin:events_event_participants", args=[full_event.pk]) not in html
    # Copying needs the add permission.
    assert reverse("admin:events_event_copy", args=[full_event.pk]) not in html
    assert client.get(copy_url(full_event)).status_code == 403


def test_the_query_count_does_not_grow_with_occasions_organizations_and_people(
    organizer_client, django_assert_max_num_queries
):
    event = factories.event(capacities=(3, 3, 3, 3), quota=2)
    occasions = list(event.occasions.order_by("starts_at"))
    municipalities = list(Organization.objects.filter(kind="municipality").exclude(domains=None)[:5])
    for number, organization in enumerate(municipalities):
        for index, person in enumerate(make_members(organization, 3, prefix=f"q{number}-")):
            registrations.register(person, occasions[(number + index) % len(occasions)])
    assert Registration.objects.waitlisted().count() > 3

    # 11 today: session, user, event, two of permissions, occasions, organizations, waiting
    # list, registrations per day, registrations' keys, emails.
    with django_assert_max_num_queries(12):
        response = organizer_client.get(dashboard_url(event))

    assert response.status_code == 200
    assert len(response.context["organizations"]) == 5


# --- copy as next meeting -----------------------------------------------------------------------


def test_the_copy_page_shows_the_form_and_copies_a_week_later(organizer_client, full_event):
    page = organizer_client.get(copy_url(full_event))
    assert page.status_code == 200
    assert 'name="days"' in page.content.decode()

    response = organizer_client.post(copy_url(full_event), {"days": "7"})

    copy = Event.objects.exclude(pk=full_event.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:events_event_change", args=[copy.pk])
    assert copy.status == Event.Status.DRAFT
    assert copy.starts_at == full_event.starts_at + dt.timedelta(days=7)
    assert copy.occasions.count() == 2
    assert not copy.registrations.exists()


def test_a_copy_with_a_bad_shift_says_why_and_copies_nothing(organizer_client, full_event):
    response = organizer_client.post(copy_url(full_event), {"days": "0"})

    assert response.status_code == 200
    assert response.context["form"].errors["days"]
    assert Event.objects.count() == 1

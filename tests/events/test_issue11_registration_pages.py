"""Issue 11, defects 8 and 9: what a member's registration says on the event page and on My
registrations once the event is cancelled, after a move to a waiting list, in the move form, and
with several registrations for the same event over time."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import Registration
from events.services import lifecycle, registrations
from tests import factories
from tests.events.event_pages import detail_page

pytestmark = pytest.mark.usefixtures("reference_organizations")


def _cancelled_event_with(member, organizer, **options):
    event = factories.event(title="Charging meeting", **options)
    registration = registrations.register(member, event.occasions.get())
    lifecycle.cancel_event(event, organizer=organizer)
    return event, registration


def _rows(page: str) -> list[str]:
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


# --- a cancelled event (defect 8) ---------------------------------------------------------------


def test_a_cancelled_events_page_offers_nothing_to_do_with_the_lapsed_registration(client, member, organizer):
    event, registration = _cancelled_event_with(member, organizer, quota=4)
    client.force_login(member)

    page = client.get(detail_page(event)).text

    assert "This event is cancelled." in page
    assert "You have a seat" not in page and "alert-success" not in page
    assert "The event is cancelled, so your registration has lapsed" in page
    assert reverse("events:cancel", args=[registration.pk]) not in page
    assert reverse("events:registration_ics", args=[registration.pk]) not in page
    assert reverse("events:move", args=[registration.pk]) not in page
    assert "seats left" not in page.lower() and "Seats left for" not in page


def test_a_cancelled_event_reads_event_cancelled_on_my_registrations(client, member, organizer):
    _event, registration = _cancelled_event_with(member, organizer)
    client.force_login(member)

    [row] = _rows(client.get(reverse("events:my_registrations")).text)

    assert "Event cancelled" in row and "Confirmed" not in row
    assert reverse("events:registration_ics", args=[registration.pk]) not in row


def test_the_standing_of_a_registration_follows_the_event(member, organizer):
    event, registration = _cancelled_event_with(member, organizer)
    registration = Registration.objects.select_related("event").get(pk=registration.pk)

    # The organizers' record keeps the seat; the member's view is that the event is off.
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.standing == Registration.Standing.EVENT_CANCELLED
    assert not registration.holds_place


# --- waiting list and moves (defect 9) ----------------------------------------------------------


def test_after_a_move_onto_a_waiting_list_the_panel_names_the_occasion(client, member, colleague):
    event = factories.event(capacities=(5, 5), quota=1)
    first, second = event.occasions.order_by("starts_at")
    registrations.register(colleague, first)  # the organization's one seat
    waiting = registrations.register(member, first)
    assert waiting.wait_reason == Registration.WaitReason.QUOTA
    client.force_login(member)

    page = client.post(reverse("events:move", args=[waiting.pk]), {"occasion": second.pk}, follow=True).text

    assert "You are number 1 on the waiting list for Occasion 2" in page
    assert page.count("waiting list for Occasion 2") == 1  # in the panel, not repeated above it


def test_the_move_select_starts_empty_and_marks_full_occasions_with_seats_left(client, member, other_member):
    event = factories.event(capacities=(5, 1, 3))
    first, full, roomy = event.occasions.order_by("starts_at")
    registrations.register(other_member, full)
    registration = registrations.register(member, first)
    client.force_login(member)

    page = client.get(detail_page(event)).text
    start = page.index('<select name="occasion"')
    select = page[start : page.index("</select>", start)]
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', select)

    assert options == [
        ("", "Choose a date"),
        (str(full.pk), "Occasion 2 (full – waiting list)"),
        (str(roomy.pk), "Occasion 3 (3 seats left)"),
    ]
    assert re.findall(r'<option value="(\d*)" selected>', select) == [""]
    # Submitting the empty choice moves nothing and says why.
    answer = client.post(reverse("events:move", args=[registration.pk]), {"occasion": ""}, follow=True)
    assert "Choose the date to move to." in answer.text
    registration.refresh_from_db()
    assert registration.occasion == first


def test_my_registrations_lists_each_event_once_with_dates_upcoming_first_then_past(client, member):
    def past_event(title: str, days_ago: int):
        first_day = timezone.now() - dt.timedelta(days=days_ago)
        event = factories.event(
            title=title,
            days_ahead=-days_ago,
            opens_at=first_day - dt.timedelta(days=20),
            closes_at=first_day - dt.timedelta(days=1),
        )
        registrations.register(member, event.occasions.get(), at=first_day - dt.timedelta(days=5))
        return event

    later = factories.event(title="Later meeting", days_ahead=40)
    sooner = factories.event(title="Sooner meeting", days_ahead=10, half_days=2)
    # Registered, cancelled, registered again and cancelled again: one row, not two.
    for _ in range(2):
        registration = registrations.register(member, later.occasions.get())
        registrations.cancel(registration, actor=member)
    registrations.register(member, sooner.occasions.get())
    past_event("Long ago", 50)
    past_event("Last week", 7)
    client.force_login(member)

    rows = _rows(client.get(reverse("events:my_registrations")).text)

    titles = [re.search(r">([^<]+)</a>", row).group(1) for row in rows]
    assert titles == ["Sooner meeting", "Later meeting", "Last week", "Long ago"]
    sooner_row = rows[0]
    assert sooner_row.count("<time datetime=") == 2  # both day parts, with their dates
    for part in sooner.occasions.get().day_parts.all():
        assert part.starts_at.isoformat()[:10] in sooner_row
    assert "Cancelled" in rows[1] and "Confirmed" in rows[0]
    assert 'data-label="Status"' in rows[0]  # cells labelled for the stacked phone layout

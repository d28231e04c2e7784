"""The organizers' admin for events: actions go through events.services and leave both logs,
exports and lists hold the right people, pages are for staff only and lists keep their query
count whatever the number of rows."""

import csv
import datetime as dt
import io
import re
import zoneinfo
from html.parser import HTMLParser

import openpyxl
import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import WARNING
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.admin_registrations import OccasionFilter
from events.models import (
    AgendaItem,
    ContactPerson,
    DayPart,
    Document,
    Event,
    Occasion,
    Registration,
    RegistrationLog,
    Speaker,
)
from events.services import lifecycle, registrations
from members.models import Organization
from tests import factories
from tests.conftest import make_member

pytestmark = pytest.mark.usefixtures("reference_organizations")
CONFIRMED, WAITLISTED, CANCELLED = (
    Registration.Status.CONFIRMED,
    Registration.Status.WAITLISTED,
    Registration.Status.CANCELLED,
)
Action = RegistrationLog.Action


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def _registrations_url() -> str:
    return reverse("admin:events_registration_changelist")


def _events_url() -> str:
    return reverse("admin:events_event_changelist")


def _act(client, url: str, action: str, objects, **extra):
    """Post an admin action for the selected objects, as the changelist's form does."""
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}
    return client.post(url, data, follow=True)


def _messages(response) -> list[tuple[int, str]]:
    return [(message.level, str(message)) for message in response.context["messages"]]


def _admin_log(obj, user, flag=CHANGE):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        user=user,
        action_flag=flag,
    )


def _members(organization, count, prefix="p"):
    domain = organization.domains.first().domain
    return [make_member(f"{prefix}{index}@{domain}", organization) for index in range(count)]


class _FormReader(HTMLParser):
    """The fields a browser would submit from one form of a page."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[list[str]] = []
        self._select: str | None = None
        self._select_options: list[str] = []
        self._select_chosen = False
        self._multiple = False
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and "name" in attrs:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append([attrs["name"], attrs.get("value") or ("on" if kind == "checkbox" else "")])
        elif tag == "select":
            self._select, self._select_options, self._select_chosen = attrs.get("name"), [], False
            self._multiple = "multiple" in attrs
        elif tag == "option" and self._select:
            self._select_options.append(attrs.get("value", ""))
            if "selected" in attrs:
                self.fields.append([self._select, attrs.get("value", "")])
                self._select_chosen = True
        elif tag == "textarea":
            self._textarea = [attrs["name"], ""]
            self.fields.append(self._textarea)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            if not self._select_chosen and not self._multiple and self._select_options:
                self.fields.append([self._select, self._select_options[0]])
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the newline that follows the opening tag.
            self._textarea[1] = self._textarea[1].removeprefix("\n")
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


def _form_data(response, form_id: str) -> dict[str, list[str]]:
    reader = _FormReader(form_id)
    reader.feed(response.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in reader.fields:
        data.setdefault(name, []).append(value)
    return data


# --- registration actions -------------------------------------------------------------------


def test_confirm_over_quota_confirms_a_waiting_registration_and_logs_it(
    organizer_client, organizer, member, colleague
):
    occasion = factories.event(capacities=(5,), quota=1).occasions.get()
    registrations.register(member, occasion)
    waiting = registrations.register(colleague, occasion)
    assert waiting.wait_reason == Registration.WaitReason.QUOTA

    response = _act(organizer_client, _registrations_url(), "confirm_over_quota", [waiting])

    waiting.refresh_from_db()
    assert waiting.status == CONFIRMED
    assert waiting.over_quota
    assert RegistrationLog.objects.filter(
        registration=waiting, action=Action.OVERRIDDEN, actor=organizer
    ).exists()
    assert _admin_log(waiting, organizer).count() == 1
    assert any("Confirmed 1 registration over quota" in text for _, text in _messages(response))


def test_confirm_over_quota_is_refused_when_the_occasion_is_full(
    organizer_client, organizer, member, colleague
):
    occasion = factories.event(capacities=(1,), quota=1).occasions.get()
    registrations.register(member, occasion)
    waiting = registrations.register(colleague, occasion)

    response = _act(organizer_client, _registrations_url(), "confirm_over_quota", [waiting])

    waiting.refresh_from_db()
    assert waiting.status == WAITLISTED
    assert not waiting.over_quota
    assert (WARNING, f"{waiting}: The occasion is full; raise its seats first.") in _messages(response)
    assert not _admin_log(waiting, organizer).exists()
    assert not RegistrationLog.objects.filter(registration=waiting, action=Action.OVERRIDDEN).exists()


def test_cancel_action_cancels_through_services_and_promotes_the_waiting_list(
    organizer_client, organizer, member, other_member
):
    occasion = factories.event(capacities=(1,)).occasions.get()
    holder = registrations.register(member, occasion)
    waiting = registrations.register(other_member, occasion)

    response = _act(organizer_client, _registrations_url(), "cancel_registrations", [holder])

    holder.refresh_from_db()
    waiting.refresh_from_db()
    assert holder.status == CANCELLED
    assert waiting.status == CONFIRMED
    assert RegistrationLog.objects.filter(
        registration=holder, action=Action.CANCELLED, actor=organizer
    ).exists()
    assert RegistrationLog.objects.filter(registration=waiting, action=Action.PROMOTED).exists()
    assert _admin_log(holder, organizer).count() == 1
    texts = [text for _, text in _messages(response)]
    assert "Cancelled 1 registration." in texts
    assert "1 registration was promoted from the waiting list." in texts

    again = _act(organizer_client, _registrations_url(), "cancel_registrations", [holder])
    assert (WARNING, f"{holder}: already cancelled.") in _messages(again)
    assert _admin_log(holder, organizer).count() == 1


def test_attendance_actions_record_through_services(organizer_client, organizer, member):
    registration = registrations.register(member, factories.event().occasions.get())

    _act(organizer_client, _registrations_url(), "mark_attended", [registration])
    registration.refresh_from_db()
    assert registration.attended is True

    _act(organizer_client, _registrations_url(), "mark_not_attended", [registration])
    registration.refresh_from_db()
    assert registration.attended is False

    details = list(
        RegistrationLog.objects.filter(registration=registration, action=Action.ATTENDANCE, actor=organizer)
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == ["yes", "no"]
    assert _admin_log(registration, organizer).count() == 2


def test_move_action_asks_for_the_occasion_then_moves(organizer_client, organizer, member):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.order_by("starts_at")
    registration = registrations.register(member, first)

    page = _act(organizer_client, _registrations_url(), "move_to_occasion", [registration])
    assert page.templates[0].name == "admin/events/registration/move.html"
    assert list(page.context["form"].fields["occasion"].queryset) == [second]

    response = _act(
        organizer_client,
        _registrations_url(),
        "move_to_occasion",
        [registration],
        occasion=second.pk,
        apply="1",
    )

    registration.refresh_from_db()
    assert registration.occasion == second
    assert registration.status == CONFIRMED
    assert RegistrationLog.objects.filter(
        registration=registration, action=Action.MOVED, actor=organizer
    ).exists()
    assert _admin_log(registration, organizer).count() == 1
    assert any("Moved 1 registration." in text for _, text in _messages(response))


def test_move_action_reports_each_refusal(organizer_client, organizer, member, other_member):
    event = factories.event(capacities=(5, 1))
    first, second = event.occasions.order_by("starts_at")
    registrations.register(other_member, second)
    registration = registrations.register(member, first)

    response = _act(
        organizer_client,
        _registrations_url(),
        "move_to_occasion",
        [registration],
        occasion=second.pk,
        apply="1",
    )

    registration.refresh_from_db()
    assert registration.occasion == first
    assert (
        WARNING,
        f"{registration}: There is no free seat on that occasion. You keep your seat on Occasion 1.",
    ) in _messages(response)
    assert not _admin_log(registration, organizer).exists()


def test_move_action_refuses_registrations_of_several_events(organizer_client, member, other_member):
    one = registrations.register(member, factories.event(capacities=(5, 5)).occasions.first())
    other = registrations.register(other_member, factories.event(capacities=(5, 5)).occasions.first())

    response = _act(organizer_client, _registrations_url(), "move_to_occasion", [one, other])

    assert response.templates[0].name == "admin/change_list.html"
    assert any("Select registrations of one event" in text for _, text in _messages(response))
    assert not RegistrationLog.objects.filter(action=Action.MOVED).exists()


# --- seats: capacity and the schedule -------------------------------------------------------


def test_occasion_capacity_below_its_confirmed_participants_is_refused(
    organizer_client, member, other_member
):
    event = factories.event(capacities=(2,))
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    registrations.register(other_member, occasion)

    url = reverse("admin:events_occasion_change", args=[occasion.pk])
    data = _form_data(organizer_client.get(url), "occasion_form")
    data["capacity"] = ["1"]
    response = organizer_client.post(url, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["capacity"]
    assert errors == [
        "2 participants are confirmed on this occasion, so it needs at least 2 seats. "
        "Cancel or move registrations first."
    ]
    occasion.refresh_from_db()
    assert occasion.capacity == 2

    # The same rule holds in the event's occasion rows.
    url = reverse("admin:events_event_change", args=[event.pk])
    data = _form_data(organizer_client.get(url), "event_form")
    data["occasions-0-capacity"] = ["0"]
    response = organizer_client.post(url, data)
    assert response.status_code == 200
    occasion_formset = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "occasions"
    )
    assert "capacity" in occasion_formset.forms[0].errors
    occasion.refresh_from_db()
    assert occasion.capacity == 2


def test_more_seats_saved_on_the_event_promote_the_waiting_list(organizer_client, member, other_member):
    event = factories.event(capacities=(1,))
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    waiting = registrations.register(other_member, occasion)

    url = reverse("admin:events_event_change", args=[event.pk])
    data = _form_data(organizer_client.get(url), "event_form")
    data["occasions-0-capacity"] = ["2"]
    response = organizer_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    waiting.refresh_from_db()
    assert waiting.status == CONFIRMED


def test_day_parts_saved_on_the_occasion_refresh_the_event_dates(organizer_client):
    event = factories.event()
    occasion = event.occasions.get()
    part = occasion.day_parts.get()
    later = part.starts_at + dt.timedelta(days=3)

    url = reverse("admin:events_occasion_change", args=[occasion.pk])
    data = _form_data(organizer_client.get(url), "occasion_form")
    data["day_parts-0-starts_at_0"] = [f"{later.astimezone():%Y-%m-%d}"]
    data["day_parts-0-ends_at_0"] = [f"{later.astimezone():%Y-%m-%d}"]
    response = organizer_client.post(url, data)

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.starts_at == later


def test_an_event_is_added_with_its_occasion_and_document(organizer_client, organizer):
    url = reverse("admin:events_event_add")
    data = _form_data(organizer_client.get(url), "event_form")
    theme = factories.theme()
    data.update(
        {
            "title": ["Cycling cities"],
            "slug": ["cycling-cities"],
            "main_theme": [str(theme.pk)],
            "summary": ["How cities build for bikes."],
            "format": ["online"],
            "language": ["en"],
            "audience": ["transport_planner", "manager"],
            "registration_opens_at_0": ["2030-01-01"],
            "registration_opens_at_1": ["09:00:00"],
            "registration_closes_at_0": ["2030-02-01"],
            "registration_closes_at_1": ["09:00:00"],
            "status": ["published"],
            "occasions-TOTAL_FORMS": ["1"],
            "occasions-0-label": ["Online"],
            "occasions-0-capacity": ["40"],
            "documents-TOTAL_FORMS": ["1"],
            "documents-0-title": ["Invitation"],
            "documents-0-url": ["https://example.org/invitation.pdf"],
        }
    )
    response = organizer_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(slug="cycling-cities")
    assert sorted(event.audience) == ["manager", "transport_planner"]
    assert event.published_at is not None
    assert event.occasions.get().capacity == 40
    assert event.documents.get().title == "Invitation"


# --- event actions ---------------------------------------------------------------------------


def test_publish_and_cancel_event_actions_change_the_status_and_log_it(organizer_client, organizer):
    event = factories.event(status=Event.Status.DRAFT)
    assert event.published_at is None

    _act(organizer_client, _events_url(), "publish", [event])
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert event.published_at is not None

    _act(organizer_client, _events_url(), "cancel_event", [event])
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    assert _admin_log(event, organizer).count() == 2


def test_duplicate_creates_a_draft_with_shifted_occasions_and_the_same_agenda(
    organizer_client, organizer, member
):
    event = factories.event(capacities=(10, 12), half_days=2)
    event.themes.add(factories.theme("cycling", "Cycling"))
    event.contacts.add(ContactPerson.objects.create(name="Karen Holm", email="kh@kl.dk"))
    talk = AgendaItem.objects.create(
        event=event,
        day_part=1,
        starts=dt.time(13),
        ends=dt.time(14),
        title="Welcome",
        kind=AgendaItem.Kind.ORGANIZER_TALK,
    )
    talk.speakers.add(Speaker.objects.create(name="Maria Ek", organization="KL"))
    Document.objects.create(event=event, title="Slides", url="https://example.org/slides.pdf")
    registrations.register(member, event.occasions.first())

    page = _act(organizer_client, _events_url(), "duplicate", [event])
    assert page.templates[0].name == "admin/events/event/duplicate.html"
    assert page.context["form"]["days"].value() == 28

    done = _act(organizer_client, _events_url(), "duplicate", [event], days="28", apply="1")

    copy = Event.objects.exclude(pk=event.pk).get()

    def later(moment):
        return timezone.localtime(moment) + dt.timedelta(days=28)

    assert copy.status == Event.Status.DRAFT
    assert copy.published_at is None
    assert copy.title == f"{event.title} (copy)"
    assert copy.slug != event.slug
    assert copy.starts_at == later(event.starts_at)
    assert copy.registration_closes_at == later(event.registration_closes_at)
    assert [o.capacity for o in copy.occasions.order_by("starts_at")] == [10, 12]
    original_parts = DayPart.objects.filter(occasion__event=event).order_by("starts_at")
    copied_parts = DayPart.objects.filter(occasion__event=copy).order_by("starts_at")
    assert [(p.number, later(p.starts_at), later(p.ends_at)) for p in original_parts] == [
        (p.number, p.starts_at, p.ends_at) for p in copied_parts
    ]
    copied_talk = copy.agenda_items.get()
    assert (copied_talk.title, copied_talk.starts, copied_talk.ends) == ("Welcome", dt.time(13), dt.time(14))
    assert [s.name for s in copied_talk.speakers.all()] == ["Maria Ek"]
    assert set(copy.themes.all()) == set(event.themes.all())
    assert set(copy.contacts.all()) == set(event.contacts.all())
    assert not copy.registrations.exists()
    assert not copy.documents.exists()
    assert _admin_log(copy, organizer, ADDITION).exists()

    assert any("Created the draft" in text for _, text in _messages(done))

    # A second copy of the same meeting gets its own address.
    _act(organizer_client, _events_url(), "duplicate", [event], days="28", apply="1")
    assert Event.objects.values("slug").distinct().count() == 3


def test_duplicate_keeps_the_local_time_across_summer_time(organizer_client):
    event = factories.event()
    part = DayPart.objects.get(occasion__event=event)
    # Copenhagen moves to summer time on the last Sunday of March.
    winter = dt.datetime(timezone.now().year + 2, 3, 10, 13, tzinfo=zoneinfo.ZoneInfo("Europe/Copenhagen"))
    part.starts_at, part.ends_at = winter, winter + dt.timedelta(hours=3)
    part.save()
    lifecycle.refresh_schedule(event)

    _act(organizer_client, _events_url(), "duplicate", [event], days="28", apply="1")

    copied = DayPart.objects.exclude(occasion__event=event).get()
    local = copied.starts_at.astimezone(zoneinfo.ZoneInfo("Europe/Copenhagen"))
    assert (local.date(), local.hour) == (winter.date() + dt.timedelta(days=28), 13)


# --- exports and the participant list ------------------------------------------------------


@pytest.fixture
def three_registrations(member, colleague, other_member):
    """Confirmed with needs, waiting, and confirmed but not selected for export."""
    occasion = factories.event(title="Cycling day", capacities=(2,)).occasions.get()
    confirmed = registrations.register(member, occasion, diet="Vegetarian", accessibility="=1+1")
    not_selected = registrations.register(colleague, occasion)
    waiting = registrations.register(other_member, occasion)
    return confirmed, waiting, not_selected


# The rows as an organizer reads them, written out: a test that built them from the same
# attributes as the export would pass whatever columns the export had.
CONFIRMED_ROW = [
    "Jens Kristensen",
    "Aarhus Kommune",
    "Transport planner or strategist",
    "planner@aarhus.dk",
    "Cycling day: Occasion 1",
    "Confirmed",
    "Vegetarian",
]
WAITING_ROW = [
    "Lars Odense",
    "Odense Kommune",
    "Transport planner or strategist",
    "planner@odense.dk",
    "Cycling day: Occasion 1",
    "On the waiting list",
    "",
    "",
]


HEADER = [
    "Name",
    "Organization",
    "Role",
    "Email",
    "Occasion",
    "Status",
    "Dietary needs (special-category data)",
    "Accessibility needs (special-category data)",
]


def test_csv_export_holds_the_selected_registrations(organizer_client, three_registrations):
    confirmed, waiting, _not_selected = three_registrations

    response = _act(organizer_client, _registrations_url(), "export_csv", [confirmed, waiting])

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    # A cell a spreadsheet would run as a formula is kept as text.
    assert sorted(rows[1:]) == sorted([[*CONFIRMED_ROW, "'=1+1"], WAITING_ROW])


def test_xlsx_export_holds_the_selected_registrations(organizer_client, three_registrations):
    confirmed, waiting, _not_selected = three_registrations

    response = _act(organizer_client, _registrations_url(), "export_xlsx", [confirmed, waiting])

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value or "" for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == HEADER
    assert sorted(rows[1:]) == sorted([[*CONFIRMED_ROW, "=1+1"], WAITING_ROW])
    formula_like = next(cell for row in sheet.iter_rows() for cell in row if cell.value == "=1+1")
    assert formula_like.data_type == "s"


def test_event_exports_hold_its_active_registrations(organizer_client, organizer, three_registrations):
    confirmed, waiting, not_selected = three_registrations
    cancelled = registrations.register(
        make_member("gone@aarhus.dk", confirmed.organization, full_name="Gone"), confirmed.occasion
    )
    registrations.cancel(cancelled, actor=organizer)
    event = confirmed.event

    csv_response = organizer_client.get(reverse("admin:events_event_participants_csv", args=[event.pk]))
    names = [row[0] for row in csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig")))][1:]
    assert sorted(names) == sorted(r.user.full_name for r in (confirmed, waiting, not_selected))

    xlsx_response = organizer_client.get(reverse("admin:events_event_participants_xlsx", args=[event.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_response.content)).active
    assert sorted(row[0].value for row in sheet.iter_rows(min_row=2)) == sorted(names)


def _has_inline_code(html: str) -> bool:
    """The CSP allows neither inline script nor inline style."""
    return bool(re.search(r"<script(?![^>]*\bsrc=)", html) or "<style" in html or " style=" in html)


def test_printable_participant_list_has_one_table_per_occasion(
    organizer_client, organizer, member, colleague, other_member
):
    event = factories.event(capacities=(1, 5))
    first, second = event.occasions.order_by("starts_at")
    registrations.register(member, first)
    registrations.register(other_member, first)  # waiting: no seat, not on the list
    registrations.register(colleague, second)
    registrations.record_attendance(Registration.objects.get(user=colleague), True, organizer=organizer)

    response = organizer_client.get(reverse("admin:events_event_participants", args=[event.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<section class="occasion">') == 2
    assert html.count('<tr class="participant">') == 2
    assert member.full_name in html and colleague.full_name in html
    assert other_member.full_name not in html
    assert "1 registration without a seat is not listed." in html
    assert "Signature" in html
    assert not _has_inline_code(html)

    selected = _act(
        organizer_client, _registrations_url(), "print_participant_list", Registration.objects.all()
    )
    assert selected.templates[0].name == "admin/events/participant_list.html"
    assert selected.content.decode().count('<tr class="participant">') == 2


# --- occupancy -------------------------------------------------------------------------------


def test_occupancy_counts_seats_per_occasion_and_per_organization(
    organizer_client, organizer, aarhus, odense, member, colleague, other_member
):
    event = factories.event(capacities=(2, 3), quota=2)
    first, second = event.occasions.order_by("starts_at")
    registrations.register(member, first)
    registrations.register(colleague, first)
    registrations.register(make_member("third@aarhus.dk", aarhus), second)  # waits: Aarhus's quota
    registrations.register(other_member, first)  # waits: the first occasion is full
    registrations.register(make_member("second@odense.dk", odense), second)
    gone = registrations.register(make_member("gone@odense.dk", odense), second)
    registrations.cancel(gone, actor=organizer)

    response = organizer_client.get(reverse("admin:events_event_occupancy", args=[event.pk]))

    assert response.status_code == 200
    occasions = [
        (o.capacity, o.confirmed_count, o.waitlisted_count, o.free) for o in response.context["occasions"]
    ]
    assert occasions == [(2, 2, 1, 0), (3, 1, 1, 2)]
    assert response.context["totals"] == {"capacity": 5, "confirmed": 3, "waitlisted": 2, "free": 2}
    organizations = {
        row["organization__name"]: (row["confirmed"], row["waitlisted"], row["left"])
        for row in response.context["organizations"]
    }
    assert organizations == {aarhus.name: (2, 1, 0), odense.name: (1, 1, 1)}
    assert response.context["quota"] == 2
    assert not _has_inline_code(response.content.decode())


def test_occupancy_is_linked_from_the_event_page_and_list(organizer_client):
    event = factories.event()
    occupancy = reverse("admin:events_event_occupancy", args=[event.pk])

    change_page = organizer_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert f'href="{occupancy}"' in change_page
    view_on_site = reverse("admin:view_on_site", args=[ContentType.objects.get_for_model(Event).pk, event.pk])
    assert view_on_site in change_page

    list_page = organizer_client.get(_events_url()).content.decode()
    assert f'<a href="{occupancy}">0 of 28, 0 waiting</a>' in list_page


def test_occupancy_queries_do_not_grow_with_organizations(organizer_client):
    event = factories.event(capacities=(50, 50), quota=3)
    first, second = event.occasions.all()
    municipalities = list(Organization.objects.filter(kind="municipality").exclude(domains=None)[:6])
    url = reverse("admin:events_event_occupancy", args=[event.pk])

    def register_from(organizations):
        for organization in organizations:
            for person in _members(organization, 2, prefix=f"o{organization.pk}-"):
                registrations.register(person, first if person.pk % 2 else second)

    register_from(municipalities[:1])
    with CaptureQueriesContext(connection) as few:
        organizer_client.get(url)
    register_from(municipalities[1:])
    with CaptureQueriesContext(connection) as many:
        response = organizer_client.get(url)

    assert len(response.context["organizations"]) == 6
    assert len(many) == len(few)


def test_occupancy_needs_the_view_event_permission(client, organizer):
    event = factories.event()
    url = reverse("admin:events_event_occupancy", args=[event.pk])
    staff = make_member("assistant@kl.dk", organizer.organization, full_name="Assistant")
    staff.is_staff = True
    staff.save()
    factories.organizer_team().members.add(staff)
    client.force_login(staff)

    assert client.get(url).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_event"))
    assert client.get(url).status_code == 200
    # Seeing seats is not seeing who holds them.
    assert client.get(reverse("admin:events_event_participants", args=[event.pk])).status_code == 403


# --- access and query counts -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, target",
    [
        ("admin:events_registration_changelist", None),
        ("admin:events_registration_change", "registration"),
        ("admin:events_event_changelist", None),
        ("admin:events_event_change", "event"),
        ("admin:events_event_occupancy", "event"),
        ("admin:events_event_participants", "event"),
        ("admin:events_event_participants_csv", "event"),
        ("admin:events_event_participants_xlsx", "event"),
        ("admin:events_occasion_change", "occasion"),
    ],
)
def test_a_member_is_sent_to_the_admin_login(client, member, name, target):
    occasion = factories.event().occasions.get()
    registration = registrations.register(member, occasion)
    objects = {"registration": registration, "event": occasion.event, "occasion": occasion}
    url = reverse(name, args=[objects[target].pk] if target else [])
    client.force_login(member)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("action", ["cancel_registrations", "confirm_over_quota", "export_csv"])
def test_a_member_cannot_run_registration_actions(client, member, action):
    registration = registrations.register(member, factories.event().occasions.get())
    client.force_login(member)

    response = client.post(_registrations_url(), {"action": action, "_selected_action": [registration.pk]})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    registration.refresh_from_db()
    assert registration.status == CONFIRMED


def test_registration_changelist_queries_do_not_grow_with_registrations(organizer_client, aarhus, odense):
    event = factories.event(capacities=(20, 20))
    first, second = event.occasions.all()
    people = _members(aarhus, 15, "a") + _members(odense, 15, "o")

    for person in people[:5]:
        registrations.register(person, first)
    with CaptureQueriesContext(connection) as five:
        response = organizer_client.get(_registrations_url())
    assert response.context["cl"].result_count == 5

    for index, person in enumerate(people[5:]):
        registrations.register(person, first if index % 2 else second)
    with CaptureQueriesContext(connection) as thirty:
        response = organizer_client.get(_registrations_url())
    assert response.context["cl"].result_count == 30

    assert len(thirty) == len(five)


def test_event_changelist_queries_do_not_grow_with_events(organizer_client, member):
    registrations.register(member, factories.event().occasions.get())
    with CaptureQueriesContext(connection) as one:
        organizer_client.get(_events_url())
    for _ in range(4):
        factories.event(capacities=(5, 5))
    with CaptureQueriesContext(connection) as five:
        response = organizer_client.get(_events_url())
    assert response.context["cl"].result_count == 5
    assert len(five) == len(one)


def test_registration_form_edits_needs_but_not_the_seat(organizer_client, organizer, member):
    registration = registrations.register(member, factories.event().occasions.get())
    url = reverse("admin:events_registration_change", args=[registration.pk])

    page = organizer_client.get(url)
    data = _form_data(page, "registration_form")
    assert {"status", "occasion", "user", "organization", "attended"}.isdisjoint(data)
    assert "Confirmed" in page.content.decode()  # the log, read-only
    data["diet"] = ["Vegan"]
    data["status"] = [CANCELLED]
    response = organizer_client.post(url, data)

    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.diet == "Vegan"
    assert registration.status == CONFIRMED
    assert organizer_client.get(reverse("admin:events_registration_add")).status_code == 403
    assert (
        organizer_client.get(reverse("admin:events_registration_delete", args=[registration.pk])).status_code
        == 403
    )


def test_registration_filters_by_event_occasion_and_organization_kind(organizer_client, member, other_member):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.order_by("starts_at")
    registrations.register(member, first)
    registrations.register(other_member, second)
    registrations.register(
        make_member("x@odense.dk", other_member.organization), factories.event().occasions.get()
    )

    response = organizer_client.get(
        _registrations_url(),
        {"event__id__exact": event.pk, "occasion": second.pk, "organization__kind": "municipality"},
    )

    assert [r.user for r in response.context["cl"].result_list] == [other_member]
    occasion_filter = next(
        spec for spec in response.context["cl"].filter_specs if isinstance(spec, OccasionFilter)
    )
    assert [value for value, _ in occasion_filter.lookup_choices] == [first.pk, second.pk]


def test_an_occasion_cannot_be_moved_to_another_event(organizer_client):
    """Its registrations carry the event too; the two would disagree."""
    occasion = factories.event().occasions.get()
    other_event = factories.event()
    url = reverse("admin:events_occasion_change", args=[occasion.pk])
    data = _form_data(organizer_client.get(url), "occasion_form")
    assert "event" not in data

    organizer_client.post(url, {**data, "event": [str(other_event.pk)]})
    assert Occasion.objects.get(pk=occasion.pk).event_id == occasion.event_id


# --- found in review --------------------------------------------------------------------------


def test_a_typed_occasion_filter_is_no_500(client, organizer):
    client.force_login(organizer)
    assert client.get(reverse("admin:events_registration_changelist"), {"occasion": "abc"}).status_code == 200


def test_status_changes_only_through_the_actions(client, organizer):
    event = factories.event()
    client.force_login(organizer)
    page = client.get(reverse("admin:events_event_change", args=[event.pk])).text
    assert 'name="status"' not in page


def test_an_event_with_registrations_cannot_be_deleted(client, organizer, member):
    event = factories.event()
    registrations.register(member, event.occasions.get())
    client.force_login(organizer)
    assert client.get(reverse("admin:events_event_delete", args=[event.pk])).status_code == 403
    changelist = client.get(reverse("admin:events_event_changelist")).text
    assert 'value="delete_selected"' not in changelist

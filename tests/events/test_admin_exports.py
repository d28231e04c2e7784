"""The organizers' admin exports: CSV and XLSX of registrations, the printable participant list and
the occupancy page."""

import csv
import io
import re

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events.models import (
    Event,
    Registration,
)
from events.services import attendance, registrations
from members.models import Organization
from tests import factories
from tests.conftest import make_member
from tests.events.admin_pages import events_url, make_members, registrations_url, run_action

pytestmark = pytest.mark.usefixtures("reference_organizations")


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

    response = run_action(organizer_client, registrations_url(), "export_csv", [confirmed, waiting])

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    # A cell a spreadsheet would run as a formula is kept as text.
    assert sorted(rows[1:]) == sorted([[*CONFIRMED_ROW, "'=1+1"], WAITING_ROW])


def test_xlsx_export_holds_the_selected_registrations(organizer_client, three_registrations):
    confirmed, waiting, _not_selected = three_registrations

    response = run_action(organizer_client, registrations_url(), "export_xlsx", [confirmed, waiting])

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
    attendance.record_one(
        Registration.objects.get(user=colleague), True, organizer=organizer, at=second.starts_at
    )

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

    selected = run_action(
        organizer_client, registrations_url(), "print_participant_list", Registration.objects.all()
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


def test_occupancy_is_linked_from_the_dashboard_and_list(organizer_client):
    event = factories.event()
    occupancy = reverse("admin:events_event_occupancy", args=[event.pk])
    dashboard = reverse("admin:events_event_dashboard", args=[event.pk])

    change_page = organizer_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert f'href="{dashboard}"' in change_page
    dashboard_page = organizer_client.get(dashboard).content.decode()
    assert f'href="{occupancy}"' in dashboard_page
    view_on_site = reverse("admin:view_on_site", args=[ContentType.objects.get_for_model(Event).pk, event.pk])
    assert view_on_site in change_page

    list_page = organizer_client.get(events_url()).content.decode()
    assert f'<a href="{occupancy}">0 of 28, 0 waiting</a>' in list_page


def test_occupancy_queries_do_not_grow_with_organizations(organizer_client):
    event = factories.event(capacities=(50, 50), quota=3)
    first, second = event.occasions.all()
    municipalities = list(Organization.objects.filter(kind="municipality").exclude(domains=None)[:6])
    url = reverse("admin:events_event_occupancy", args=[event.pk])

    def register_from(organizations):
        for organization in organizations:
            for person in make_members(organization, 2, prefix=f"o{organization.pk}-"):
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

"""The Network page: whom the network reached in a period, by organization, kind, region and
theme, whom it did not, over the months; in Excel too; counting only the viewer's teams' events."""

import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events import network_selectors as network
from events.models import Event, Occasion, Registration, Series
from events.services import attendance, evaluations, registrations
from members.models import Organization, User
from tests import factories
from tests.conftest import make_member
from tests.events.admin_pages import make_members, other_team_organizer

pytestmark = pytest.mark.usefixtures("reference_organizations")
NETWORK_URL = "admin:events_registration_network"


def organization(name: str) -> Organization:
    return Organization.objects.get(name=name)


@pytest.fixture
def season(organizer, member, colleague, other_member):
    """One event held an hour ago: Aarhus attended and did not show, Odense's attendance is not
    recorded; Copenhagen only waited, Vejle cancelled. A second event, two years ago, reached
    Aalborg."""
    charging = factories.theme("charging", "Charging infrastructure")
    cycling = factories.theme("cycling", "Cycling")
    event = factories.event(title="Ladeinfrastruktur", capacities=(3,), main_theme=charging)
    event.themes.add(cycling)
    occasion = event.occasions.get()
    came = registrations.register(member, occasion)
    stayed_away = registrations.register(colleague, occasion)
    registrations.register(other_member, occasion)  # attendance not recorded
    vejle = make_member("gone@vejle.dk", organization("Vejle Kommune"))
    registrations.cancel(registrations.register(vejle, occasion), actor=vejle)
    copenhagen = make_member("waiting@kk.dk", organization("Københavns Kommune"))
    waiting = registrations.register(copenhagen, occasion)
    assert waiting.status == Registration.Status.WAITLISTED
    factories.begun(occasion)
    attendance.record(occasion, {came.pk: True, stayed_away.pk: False}, organizer=organizer)

    old = factories.event(title="Cykelstier", main_theme=cycling).occasions.get()
    aalborg = make_member("then@aalborg.dk", organization("Aalborg Kommune"))
    registrations.register(aalborg, old)
    two_years_ago = timezone.now() - dt.timedelta(days=730)
    Occasion.objects.filter(pk=old.pk).update(
        starts_at=two_years_ago, ends_at=two_years_ago + dt.timedelta(hours=3)
    )
    return event


def default_reach(viewer) -> network.Reach:
    return network.Reach(network.Scope.default(viewer))


# --- the figures ----------------------------------------------------------------------------------


def test_per_organization_counts_registrations_seats_attendance_no_shows_and_cancellations(organizer, season):
    rows = {row.name: row for row in default_reach(organizer).organizations}

    aarhus = rows["Aarhus Kommune"]
    assert (aarhus.registrations, aarhus.confirmed, aarhus.attended, aarhus.no_shows) == (2, 2, 1, 1)
    assert aarhus.region == "Region Midtjylland" and aarhus.reached
    assert rows["Odense Kommune"].reached  # attendance not recorded: had a seat
    assert (rows["Københavns Kommune"].waiting, rows["Københavns Kommune"].reached) == (1, False)
    assert (rows["Vejle Kommune"].cancelled, rows["Vejle Kommune"].reached) == (1, False)
    assert "Aalborg Kommune" not in rows  # two years ago: outside the last twelve months
    assert list(rows)[0] == "Aarhus Kommune"  # most seats first


def test_a_no_show_alone_does_not_reach_an_organization(organizer, colleague, season):
    Registration.objects.filter(user__organization__name="Aarhus Kommune", attended=True).update(
        attended=False
    )

    rows = {row.name: row for row in default_reach(organizer).organizations}

    assert rows["Aarhus Kommune"].no_shows == 2 and not rows["Aarhus Kommune"].reached


def test_coverage_is_reached_of_all_organizations_of_a_kind_and_per_region(organizer, season):
    reach = default_reach(organizer)

    coverage = {(row.country, row.kind): (row.reached, row.of) for row in reach.coverage}
    regions = {(row.region, row.kind): (row.reached, row.of) for row in reach.regions}

    assert coverage[("DK", "municipality")] == (2, 98)
    assert coverage[("DK", "region")] == (0, 5)
    assert coverage[("SE", "county_board")] == (0, 21)
    assert coverage[("SE", "municipality")] == (0, 290)
    assert regions[("Region Midtjylland", "municipality")] == (1, 19)
    assert regions[("Region Syddanmark", "municipality")] == (1, 22)
    assert regions[("Region Hovedstaden", "municipality")] == (0, 29)
    assert regions[("Norrbottens län", "municipality")] == (0, 14)


def test_organizations_not_reached_are_listed_with_when_they_last_took_part(organizer, season):
    rows = {row.name: row for row in default_reach(organizer).not_reached}

    assert "Aarhus Kommune" not in rows and "Odense Kommune" not in rows
    assert rows["Københavns Kommune"].last_reached is None  # only waited: never took part
    assert rows["Aalborg Kommune"].last_reached.date() == (timezone.now() - dt.timedelta(days=730)).date()
    assert len(rows) == Organization.objects.active().count() - 2
    # Aalborg took part two years ago: not reached this year, but not never.
    assert default_reach(organizer).never_reached == len(rows) - 1


def test_themes_count_an_event_under_its_main_theme_and_its_other_themes(organizer, season):
    rows = {row.theme.slug: row for row in default_reach(organizer).themes}

    assert set(rows) == {"charging", "cycling"}
    for slug in ("charging", "cycling"):
        assert (rows[slug].events, rows[slug].registrations, rows[slug].confirmed) == (1, 5, 3)
        assert (rows[slug].attended, rows[slug].organizations) == (1, 2)


def test_an_event_whose_main_theme_is_also_listed_among_its_others_counts_once(organizer, season):
    season.themes.add(season.main_theme)

    rows = {row.theme.slug: row for row in default_reach(organizer).themes}

    assert (rows["charging"].events, rows["charging"].registrations, rows["charging"].organizations) == (
        1,
        5,
        2,
    )


def test_reach_per_month_adds_up_first_participations(organizer, season):
    months = default_reach(organizer).months

    assert len(months) in (12, 13)  # the months the last 365 days touch
    assert months[-1].total == 2 and sum(month.new for month in months) == 2
    assert months[0].first_day == network.Scope.default(organizer).start.replace(day=1)


def test_the_period_theme_and_series_narrow_what_is_counted(organizer, season):
    long_ago = timezone.localdate() - dt.timedelta(days=800)
    everything = network.Scope(organizer, long_ago, timezone.localdate())
    assert {row.name for row in network.Reach(everything).organizations if row.reached} == {
        "Aarhus Kommune",
        "Odense Kommune",
        "Aalborg Kommune",
    }
    charging_only = network.Scope(organizer, long_ago, timezone.localdate(), theme=season.main_theme)
    assert {row.name for row in network.Reach(charging_only).organizations if row.reached} == {
        "Aarhus Kommune",
        "Odense Kommune",
    }
    series = Series.objects.create(title="Grøn mobilitet", slug="groen", team=factories.organizer_team())
    Event.objects.filter(pk=season.pk).update(series=series)
    in_series = network.Scope(organizer, long_ago, timezone.localdate(), series=series)
    assert network.Reach(in_series).totals.events == 1


def test_another_teams_organizer_counts_only_their_own_events(organizer, season):
    outsider = other_team_organizer(organizer)

    reach = default_reach(outsider)

    assert reach.organizations == []
    assert reach.totals.registrations == 0
    assert all(row.reached == 0 for row in reach.coverage)


def test_the_page_costs_the_same_queries_at_ten_times_the_registrations(organizer, season, aarhus, odense):
    def queries() -> int:
        reach = default_reach(organizer)
        with CaptureQueriesContext(connection) as captured:
            for figure in (
                "totals",
                "organizations",
                "coverage",
                "regions",
                "not_reached",
                "themes",
                "months",
            ):
                getattr(reach, figure)
        return len(captured)

    before = queries()
    for index in range(3):
        occasion = factories.event(title=f"More {index}", capacities=(40,)).occasions.get()
        for person in make_members(aarhus, 6, prefix=f"a{index}-") + make_members(
            odense, 6, prefix=f"o{index}-"
        ):
            registrations.register(person, occasion)
        factories.begun(occasion)

    assert queries() == before


def test_theme_wishes_from_the_evaluations_count_alike_wishes_together(
    organizer, season, member, other_member
):
    for registration, wish in zip(
        Registration.objects.filter(event=season, user__in=[member, other_member]),
        ["Cargo bikes", "  cargo   BIKES "],
        strict=True,
    ):
        evaluations.evaluate(registration, rating=4, item_ratings={}, theme_wish=wish)

    reach = default_reach(organizer)

    assert [(wish.casefold().split(), count) for wish, count in reach.theme_wishes] == [
        (["cargo", "bikes"], 2)
    ]


# --- the page -------------------------------------------------------------------------------------


def test_the_page_shows_every_table_with_its_bars_and_numbers(organizer_client, season):
    response = organizer_client.get(reverse(NETWORK_URL))

    assert response.status_code == 200
    html = response.content.decode()
    for heading in (
        "Coverage",
        "Coverage by region",
        "Reach over time",
        "Themes",
        "Organizations",
        "Not reached",
    ):
        assert f">{heading}</h2>" in html
    assert "2 of 98" in html  # Danish municipalities
    assert "1 of 19" in html  # Region Midtjylland
    assert "<svg" in html and "The same as a table" in html
    assert html.count('<tr class="organization">') == 4
    assert "Aalborg Kommune" in html  # in the list of organizations not reached


def test_bad_filters_get_their_message_next_to_the_field_and_no_figures(organizer_client, season):
    response = organizer_client.get(
        reverse(NETWORK_URL), {"start": "2026-05-01", "end": "2026-04-01", "theme": "x"}
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["end"] == ["The end of the period comes before its start."]
    assert "theme" in form.errors
    assert response.context["figures"] is None
    assert 'id="id_end_error"' in response.content.decode()
    assert organizer_client.get(reverse(NETWORK_URL), {"start": "not a day"}).status_code == 200


def test_every_table_downloads_as_one_excel_workbook(organizer_client, season):
    Organization.objects.filter(name="Odense Kommune").update(name="=HYPERLINK(1)")
    response = organizer_client.get(reverse("admin:events_registration_network_xlsx"), {"theme": ""})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="network-')
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "Organizations",
        "Coverage",
        "Coverage by region",
        "Not reached",
        "Themes",
        "Theme wishes",
        "Reach over time",
        "About",
    ]
    organizations = list(workbook["Organizations"].values)
    assert organizations[0][:5] == ("Organization", "Kind", "Country", "Region or county", "Registrations")
    aarhus = next(row for row in organizations if row[0] == "Aarhus Kommune")
    assert aarhus[4:9] == (2, 2, 1, 1, 0)  # numbers, not text
    assert any(row[0] == "=HYPERLINK(1)" for row in organizations)  # kept as text, never a formula
    assert workbook["Organizations"]["A2"].data_type == "s"
    coverage = {(row[0], row[1]): row[2:] for row in list(workbook["Coverage"].values)[1:]}
    assert coverage[("Denmark", "Municipality")] == (2, 98, 2)


def test_the_page_is_for_those_who_may_view_registrations(client, organizer, season):
    viewer = make_member("nosy@kl.dk", organizer.organization)
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)

    assert client.get(reverse(NETWORK_URL)).status_code == 403
    assert client.get(reverse("admin:events_registration_network_xlsx")).status_code == 403
    client.force_login(User.objects.get(email="gone@vejle.dk"))
    assert client.get(reverse(NETWORK_URL)).status_code == 302  # to the admin's sign-in


def test_the_admin_index_links_the_page(organizer_client):
    assert reverse(NETWORK_URL) in organizer_client.get(reverse("admin:index")).content.decode()


def test_the_page_speaks_the_organizers_language(organizer_client, organizer, season):
    organizer.preferred_language = "sv"
    organizer.save()

    html = organizer_client.get(reverse(NETWORK_URL)).content.decode()

    assert "Täckning per region" in html

"""Issue 11, defect 11: the Swedish county boards under their official names, sorted as Swedish
sorts; roles offered per country, and a role of the other country refused next to the field."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from members.forms import ProfileForm
from members.models import Organization, User
from members.reference import read_records
from tests.conftest import PASSWORD, make_member

pytestmark = pytest.mark.django_db

COORDINATOR = User.Role.ENVIRONMENTAL_OBJECTIVES_COORDINATOR


def test_every_county_board_has_its_official_name_in_one_form():
    boards = [record["name"] for record in read_records() if record["kind"] == "county_board"]
    assert len(boards) == 21
    assert all(re.fullmatch(r"Länsstyrelsen i [\w ]+ län", name) for name in boards), boards
    assert "Länsstyrelsen i Västerbottens län" in boards and "Länsstyrelsen i Östergötlands län" in boards


def test_county_boards_in_the_profile_select_sort_as_swedish_sorts(reference_organizations):
    with translation.override("en"):  # the groups' labels
        form = ProfileForm(
            instance=User(), organizations=Organization.objects.filter(country="SE"), proven_by_domain=True
        )
        groups = dict(choice for choice in form.fields["organization"].choices if choice[0])
    boards = [name for _, name in groups["Sweden – County administrative board"]]
    # Ö after every other letter: Östergötland is no longer alone at the end of the list.
    assert boards[-2:] == ["Länsstyrelsen i Örebro län", "Länsstyrelsen i Östergötlands län"]
    assert boards.index("Länsstyrelsen i Västra Götalands län") < boards.index("Länsstyrelsen i Örebro län")
    municipalities = [name for _, name in groups["Sweden – Municipality"]]
    # Swedish: å, ä, ö after z, in that order.
    first_after_z = [name[0] for name in municipalities if name[0] in "ÅÄÖ"]
    assert first_after_z == sorted(first_after_z, key="ÅÄÖ".index)
    position = municipalities.index
    assert (
        position("Ystads kommun")
        < position("Åre kommun")
        < position("Älmhults kommun")
        < position("Öckerö kommun")
    )


def test_danish_names_sort_as_danish_sorts_aa_with_å(reference_organizations):
    with translation.override("en"):  # the groups' labels
        form = ProfileForm(
            instance=User(), organizations=Organization.objects.filter(country="DK"), proven_by_domain=True
        )
        groups = dict(choice for choice in form.fields["organization"].choices if choice[0])
    municipalities = [name for _, name in groups["Denmark – Municipality"]]
    # Danish: æ, ø, å after z, and "aa" read as the å it stood for.
    assert municipalities.index("Ærø Kommune") < municipalities.index("Aabenraa Kommune")
    assert municipalities[-1] == "Aarhus Kommune"


def test_a_danish_member_is_not_offered_the_swedish_role(aarhus):
    member = make_member("planner@aarhus.dk", aarhus)
    with translation.override("da"):
        form = ProfileForm(instance=member, organizations=Organization.objects.all(), proven_by_domain=True)
        offered = dict(form.fields["role"].choices)
    assert COORDINATOR not in offered and "transport_planner" in offered


def test_a_swedish_member_is_offered_it(reference_organizations):
    skane = Organization.objects.get(country="SE", kind="county_board", official_code="12")
    member = make_member("planerare@lansstyrelsen.se", skane)
    form = ProfileForm(instance=member, organizations=Organization.objects.all(), proven_by_domain=True)
    assert COORDINATOR in dict(form.fields["role"].choices)


def test_posting_the_swedish_role_for_a_danish_organization_is_refused_next_to_the_field(client, aarhus):
    member = make_member("planner@aarhus.dk", aarhus)
    client.login(email=member.email, password=PASSWORD)
    response = client.post(
        reverse("members:edit"),
        {
            "full_name": "Jens",
            "organization": aarhus.pk,
            "role": COORDINATOR,
            "preferred_language": "en",
        },
    )
    assert response.status_code == 200
    assert "it shows the roles of your organization’s country" in response.text
    member.refresh_from_db()
    assert member.role == "transport_planner"

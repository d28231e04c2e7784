"""Issue 11, defect 9 on the coordinator's page of the organization's seats: each colleague's
move select is the member's (an empty "Choose a date" first, the seats in each option), and a move
posted without a date comes back with the error next to that select, nothing moved."""

import re

import pytest
from django.urls import reverse

from events.models import Registration
from events.services import registrations
from tests import factories

pytestmark = pytest.mark.usefixtures("reference_organizations")


@pytest.fixture
def coordinator(member):
    member.is_organization_coordinator = True
    member.save(update_fields=["is_organization_coordinator"])
    return member


def _select(page: str, registration: Registration) -> str:
    match = re.search(rf'<select[^>]*id="move-{registration.pk}-occasion".*?</select>', page, re.S)
    assert match, page
    return match.group(0)


def test_the_move_select_starts_empty_and_shows_the_seats(client, coordinator, colleague, other_member):
    event = factories.event(capacities=(5, 3, 1), quota=4)
    first, second, third = event.occasions.order_by("starts_at")
    registration = registrations.register(colleague, first)
    registrations.register(other_member, second)
    registrations.register(coordinator, third)
    client.force_login(coordinator)
    page = client.get(reverse("events:organization_seats", args=[event.slug])).text
    select = _select(page, registration)
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert options[0] == ("", "Choose a date")
    labels = dict(options)
    assert labels[str(second.pk)].endswith("(2 seats left)")
    assert labels[str(third.pk)].endswith("(full – waiting list)")
    assert str(first.pk) not in labels  # not the date it is on


def test_a_move_posted_without_a_date_shows_the_error_next_to_the_select(client, coordinator, colleague):
    event = factories.event(capacities=(5, 5), quota=4)
    first, _second = event.occasions.order_by("starts_at")
    registration = registrations.register(colleague, first)
    client.force_login(coordinator)
    url = reverse("events:organization_seats", args=[event.slug])
    response = client.post(url, {"move": registration.pk, "occasion": ""})
    assert response.status_code == 400
    select = _select(response.text, registration)
    assert "is-invalid" in select and 'aria-invalid="true"' in select
    described_by = re.search(r'aria-describedby="([^"]+)"', select).group(1)
    error = re.search(rf'<div id="{described_by}"[^>]*>\s*<p[^>]*><strong>([^<]*)', response.text)
    assert error and error.group(1) == "Choose the date to move to.", response.text
    assert "Choose a colleague." not in response.text  # the colleague form was not posted
    registration.refresh_from_db()
    assert registration.occasion == first


def test_a_move_from_the_page_comes_back_to_it(client, coordinator, colleague):
    event = factories.event(capacities=(5, 5), quota=4)
    first, second = event.occasions.order_by("starts_at")
    registration = registrations.register(colleague, first)
    client.force_login(coordinator)
    url = reverse("events:organization_seats", args=[event.slug])
    response = client.post(url, {"move": registration.pk, "occasion": second.pk}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "Mette Aarhus: You have a seat on" in response.text
    registration.refresh_from_db()
    assert registration.occasion == second


def test_only_the_rows_on_the_page_can_be_moved(client, coordinator, other_member):
    event = factories.event(capacities=(5, 5), quota=4)
    first, second = event.occasions.order_by("starts_at")
    foreign = registrations.register(other_member, first)
    client.force_login(coordinator)
    url = reverse("events:organization_seats", args=[event.slug])
    for value in (foreign.pk, "abc", ""):
        assert client.post(url, {"move": value, "occasion": second.pk}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.occasion == first

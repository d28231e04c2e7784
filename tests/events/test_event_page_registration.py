"""Registering from the event pages: register, cancel and move a seat, my registrations, and a
coordinator acting for colleagues of the organization."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import Registration
from events.services import registrations
from tests import factories
from tests.conftest import make_member
from tests.events.event_pages import detail_page

pytestmark = pytest.mark.usefixtures("reference_organizations")


# --- register, cancel, move -----------------------------------------------------------------


def test_anonymous_register_goes_to_login(client, db):
    event = factories.event()
    response = client.post(
        reverse("events:register", args=[event.slug]), {"occasion": event.occasions.get().pk}
    )
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert Registration.objects.count() == 0


def test_register_through_the_page(client, member):
    event = factories.event()
    client.force_login(member)
    response = client.post(
        reverse("events:register", args=[event.slug]),
        {"occasion": event.occasions.get().pk, "accessibility": "Step-free access", "listed": "on"},
        follow=True,
    )
    assert "You have a seat on Occasion 1." in response.text
    registration = Registration.objects.get(user=member)
    assert registration.accessibility == "Step-free access" and registration.listed


def test_register_with_a_foreign_occasion_is_refused_next_to_the_field(client, member):
    event = factories.event()
    other = factories.event()
    client.force_login(member)
    response = client.post(
        reverse("events:register", args=[event.slug]), {"occasion": other.occasions.get().pk}
    )
    assert response.status_code == 400
    assert "Choose one of the occasions of this event." in response.text
    assert Registration.objects.count() == 0


@pytest.mark.parametrize("posted", ["", "x", "9" * 30, "-1", "9223372036854775807", "9223372036854775808"])
def test_register_with_an_odd_occasion_value_is_refused_next_to_the_field(client, member, posted):
    event = factories.event()
    client.force_login(member)
    response = client.post(reverse("events:register", args=[event.slug]), {"occasion": posted})
    assert response.status_code == 400
    assert "Choose one of the occasions of this event." in response.text or "This field is required" in (
        response.text
    )
    assert Registration.objects.count() == 0


def test_register_for_an_unpublished_event_is_not_found(client, member):
    event = factories.event()
    occasion = event.occasions.get()
    event.status = event.Status.DRAFT
    event.save()
    client.force_login(member)
    response = client.post(reverse("events:register", args=[event.slug]), {"occasion": occasion.pk})
    assert response.status_code == 404
    assert Registration.objects.count() == 0


def test_register_when_closed_shows_the_reason(client, member):
    now = timezone.now()
    event = factories.event(opens_at=now - dt.timedelta(days=5), closes_at=now - dt.timedelta(days=1))
    client.force_login(member)
    response = client.post(
        reverse("events:register", args=[event.slug]), {"occasion": event.occasions.get().pk}
    )
    assert response.status_code == 400
    assert "Registration is closed." in response.text


def test_register_get_is_not_allowed(client, member):
    event = factories.event()
    client.force_login(member)
    assert client.get(reverse("events:register", args=[event.slug])).status_code == 405


def test_cancel_shows_a_confirmation_then_cancels_on_post(client, member):
    registration = registrations.register(member, factories.event().occasions.get())
    client.force_login(member)
    url = reverse("events:cancel", args=[registration.pk])
    assert "Yes, cancel" in client.get(url).text
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    client.post(url)
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED


@pytest.mark.parametrize("who", ["anonymous", "other_member", "colleague"])
def test_nobody_else_sees_or_changes_my_registration(client, member, colleague, other_member, who):
    event = factories.event(capacities=(5, 5))
    registration = registrations.register(member, event.occasions.first())
    if who != "anonymous":
        client.force_login({"other_member": other_member, "colleague": colleague}[who])
    cancel = client.post(reverse("events:cancel", args=[registration.pk]))
    move = client.post(
        reverse("events:move", args=[registration.pk]), {"occasion": event.occasions.last().pk}
    )
    expected = 302 if who == "anonymous" else 404
    assert cancel.status_code == expected and move.status_code == expected
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.occasion == event.occasions.first()


def test_move_through_the_page(client, member):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.all()
    registration = registrations.register(member, first)
    client.force_login(member)
    client.post(reverse("events:move", args=[registration.pk]), {"occasion": second.pk})
    registration.refresh_from_db()
    assert registration.occasion == second


def test_move_to_a_full_occasion_keeps_the_seat_and_says_so(client, member, other_member):
    event = factories.event(capacities=(5, 1))
    first, second = event.occasions.all()
    registrations.register(other_member, second)
    registration = registrations.register(member, first)
    client.force_login(member)
    page = client.post(reverse("events:move", args=[registration.pk]), {"occasion": second.pk}, follow=True)
    assert "You keep your seat" in page.text
    registration.refresh_from_db()
    assert registration.occasion == first


def test_my_registrations_lists_only_mine(client, member, other_member):
    mine = factories.event(title="Mine")
    theirs = factories.event(title="Theirs")
    registrations.register(member, mine.occasions.get())
    registrations.register(other_member, theirs.occasions.get())
    client.force_login(member)
    page = client.get(reverse("events:my_registrations")).text
    assert "Mine" in page and "Theirs" not in page


# --- coordinator ----------------------------------------------------------------------------


def test_coordinator_registers_a_colleague_within_the_quota(client, member, colleague, other_member):
    member.is_organization_coordinator = True
    member.save()
    event = factories.event(quota=1)
    url = reverse("events:organization_seats", args=[event.slug])
    client.force_login(member)
    page = client.get(url)
    assert page.status_code == 200 and colleague.email in page.text and other_member.email not in page.text
    client.post(url, {"member": colleague.pk, "occasion": event.occasions.get().pk})
    assert Registration.objects.get(user=colleague).status == Registration.Status.CONFIRMED
    # Another organization's member cannot be registered from here.
    response = client.post(url, {"member": other_member.pk, "occasion": event.occasions.get().pk})
    assert response.status_code == 400
    assert not Registration.objects.filter(user=other_member).exists()


def test_organization_page_is_for_coordinators_only(client, member):
    event = factories.event()
    client.force_login(member)
    assert client.get(reverse("events:organization_seats", args=[event.slug])).status_code == 403


def test_series_and_theme_pages(client, db):
    from events.models import Series

    series = Series.objects.create(title="KL network", slug="kl-network", description="About *us*")
    event = factories.event(title="In the series")
    event.series = series
    event.save()
    page = client.get(series.get_absolute_url())
    assert "In the series" in page.text and "<em>us</em>" in page.text
    assert "In the series" in client.get(event.main_theme.get_absolute_url()).text


def test_theme_stylesheet_holds_only_valid_colours(client, db):
    theme = factories.theme("public-transport", "Public transport")
    theme.colour = "#0b5394"
    theme.save()
    css = client.get(reverse("events:theme_stylesheet"))
    assert css["Content-Type"].startswith("text/css")
    assert ".theme-public-transport { background: #0b5394;" in css.text


def test_coordinator_moves_a_colleague_from_the_organization_page(client, member, colleague):
    member.is_organization_coordinator = True
    member.save()
    event = factories.event(capacities=(5, 5), quota=4)
    first, second = event.occasions.all()
    registration = registrations.register(colleague, first)
    client.force_login(member)
    url = reverse("events:organization_seats", args=[event.slug])
    assert f'name="move" value="{registration.pk}"' in client.get(url).text
    client.post(url, {"move": registration.pk, "occasion": second.pk})
    registration.refresh_from_db()
    assert registration.occasion == second


# --- found in review --------------------------------------------------------------------------


def test_coordinator_page_refuses_a_typed_member_id_without_a_500(client, member):
    member.is_organization_coordinator = True
    member.save()
    event = factories.event()
    client.force_login(member)
    url = reverse("events:organization_seats", args=[event.slug])
    for value in ("abc", "", "99999"):
        response = client.post(url, {"member": value, "occasion": event.occasions.get().pk})
        assert response.status_code == 400 and "Choose a colleague." in response.text
    assert not Registration.objects.exists()


def test_an_unverified_claim_reveals_no_colleague_names(client, colleague, unverified_member, odense):
    event = factories.event()
    insider = make_member("insider@odense.dk", odense, full_name="Inside Person")
    registrations.register(insider, event.occasions.get(), listed=True)
    client.force_login(unverified_member)
    assert "Inside Person" not in client.get(detail_page(event)).text

"""Registration journeys of the two announcements, in a real Chromium."""

import pytest
from django.core.management import call_command

from events.models import Event, Registration
from members.management.commands.seed_demo import DEMO_PASSWORD
from members.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]


@pytest.fixture
def demo(reference_organizations):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _sign_in(portal, email):
    # The demo members prefer Danish or Swedish; these journeys read the English wording.
    User.objects.filter(email=email).update(preferred_language="en")
    page = portal.open("/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(portal.url + "/")
    return page


def test_find_the_charging_meeting_by_theme_register_download_ics_and_cancel(portal, demo):
    page = _sign_in(portal, "trafik@malmo.se")
    page.locator("header nav a[href='/events/']").click()
    page.select_option("#id_theme", "charging-infrastructure")
    page.locator("form.filter-form button[type=submit]").click()
    cards = page.locator("article.event-card")
    assert cards.count() == 1
    portal.assert_accessible()
    cards.first.locator("h3 a").click()
    assert "Udrulning af ladeinfrastruktur" in page.locator("h1").inner_text()
    portal.assert_accessible()

    # Register by choosing the date, then confirming with the needs on the next page.
    page.locator("a.date-choice").click()
    assert "You will get a seat" in page.locator(".expected-outcome").inner_text()
    portal.assert_accessible()
    page.fill("#id_diet", "Vegetarian")
    page.locator("form[action$='/register/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "You have a seat on" in page.locator("#registration-heading + .alert").inner_text()
    registration = Registration.objects.get(user__email="trafik@malmo.se")
    assert registration.status == Registration.Status.CONFIRMED and registration.diet == "Vegetarian"

    with page.expect_download() as download_info:
        page.locator("a[href$='calendar.ics']").first.click()
    ics = download_info.value.path().read_text()
    assert "BEGIN:VEVENT" in ics and "Udrulning af ladeinfrastruktur" in ics

    page.locator("main a[href$='/cancel/']").click()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/events/mine/")
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED


def test_swedish_workshop_when_the_boards_quota_is_used_shows_the_waiting_list(portal, demo):
    # Four colleagues from Länsstyrelsen Skåne already hold the board's four seats.
    user = User.objects.get(email="planerare.skane@lansstyrelsen.se")
    workshop = Event.objects.get(slug="workshop-klimatsmarta-lanstransportplaner")
    assert (
        Registration.objects.confirmed().filter(event=workshop, organization=user.organization).count() == 4
    )

    page = _sign_in(portal, user.email)
    portal.open(workshop.get_absolute_url())
    # Every date says, before registering, that the board's seats are used up.
    third = page.locator(".date-choices > li").nth(2)
    assert "Your organization's seats are taken – you join the waiting list" in third.inner_text()
    third.locator("a.date-choice").click()
    assert "are taken, so you will join the waiting list" in page.locator(".expected-outcome").inner_text()
    page.locator("form[action$='/register/'] button[type=submit]").click()
    page.wait_for_load_state()
    message = page.locator("#registration-heading + .alert").inner_text()
    assert "are taken" in message and "number 1 on the waiting list" in message
    portal.assert_accessible()
    registration = Registration.objects.get(user=user)
    assert registration.status == Registration.Status.WAITLISTED
    assert registration.wait_reason == Registration.WaitReason.QUOTA

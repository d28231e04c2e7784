"""Issue 11, defect 9: My registrations on a phone (390 px wide) stacks its rows and does not
scroll sideways; each event appears once, with its occasion's dates."""

import pytest
from django.core.management import call_command

from events.models import Event, Registration
from events.services import registrations
from members.management.commands.seed_demo import DEMO_PASSWORD
from members.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(reference_organizations):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_my_registrations_fit_a_phone_and_list_each_event_once_with_dates(portal, demo):
    user = User.objects.get(email="planerare.skane@lansstyrelsen.se")
    User.objects.filter(pk=user.pk).update(preferred_language="en")
    workshop = Event.objects.get(slug="workshop-klimatsmarta-lanstransportplaner")
    last = workshop.occasions.order_by("starts_at").last()
    for _ in range(2):  # the reported case: registered and cancelled twice for 2–3 December
        registrations.cancel(registrations.register(user, last), actor=user)
    other = next(
        event
        for event in Event.objects.exclude(pk=workshop.pk).order_by("starts_at")
        if registrations.registration_is_open(event)
    )
    registrations.register(user, other.occasions.first())

    page = portal.page
    page.set_viewport_size(PHONE)
    portal.open("/accounts/login/")
    page.fill("#id_login", user.email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(portal.url + "/")
    portal.open("/events/mine/")

    rows = page.locator("main table tbody tr")
    assert rows.count() == Registration.objects.filter(user=user).values("event").distinct().count() == 2
    assert rows.nth(0).locator("time").count() >= 1 and rows.nth(1).locator("time").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Stacked: the cells sit under each other, each labelled by its column.
    first_cells = rows.nth(0).locator("td")
    assert first_cells.nth(1).bounding_box()["y"] > first_cells.nth(0).bounding_box()["y"]
    portal.assert_accessible()

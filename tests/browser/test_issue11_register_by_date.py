"""Issue 11, defect 11: on a phone the registration comes before the long programme (in the
markup too, so screen readers meet it there), and on a wide screen it stays beside the text."""

import pytest
from django.core.management import call_command

from members.management.commands.seed_demo import DEMO_PASSWORD
from members.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]

WORKSHOP = "/events/workshop-klimatsmarta-lanstransportplaner/"


@pytest.fixture
def demo(reference_organizations):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _sign_in(portal, email: str):
    User.objects.filter(email=email).update(preferred_language="en")
    page = portal.open("/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(portal.url + "/")
    return page


def _top(page, selector: str) -> float:
    return page.locator(selector).bounding_box()["y"]


def test_on_a_phone_the_date_buttons_come_before_the_programme(portal, demo):
    page = _sign_in(portal, "trafik@malmo.se")
    page.set_viewport_size({"width": 390, "height": 844})
    portal.open(WORKSHOP)

    assert page.locator("a.date-choice").count() == 3
    assert _top(page, "#registration-heading") < _top(page, "#programme-heading")
    assert _top(page, "a.date-choice >> nth=0") < _top(page, "#programme-heading")
    # Nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    portal.assert_accessible()


def test_on_a_wide_screen_the_registration_sits_beside_the_text_and_programme(portal, demo):
    page = _sign_in(portal, "trafik@malmo.se")
    page.set_viewport_size({"width": 1280, "height": 900})
    portal.open(WORKSHOP)

    registration = page.locator("#registration-heading").bounding_box()
    programme = page.locator("#programme-heading").bounding_box()
    description = page.locator(".event-description").bounding_box()
    assert registration["x"] > programme["x"] + programme["width"] / 2
    assert registration["y"] < programme["y"]
    # The programme follows the text directly, with no gap left by the taller side column.
    assert programme["y"] - (description["y"] + description["height"]) < 200


def test_anonymous_visitors_on_a_phone_also_reach_the_registration_first(portal, demo):
    page = portal.open(WORKSHOP)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert _top(page, "#registration-heading") < _top(page, "#programme-heading")

"""Issue 11, defect 11: once signed in, the header stays on one line at desktop widths in every
language (the longest: a staff member's, with Administration), and wraps without scrolling
sideways on a phone."""

import pytest
from django.core.management import call_command

from members.management.commands.seed_demo import DEMO_PASSWORD
from members.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]

# The header's items side by side: the tallest of them plus the container's padding.
SINGLE_LINE = """() => {
  const row = document.querySelector('.site-header > .container');
  const items = [...row.children];
  const style = getComputedStyle(row);
  const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
  const tallest = Math.max(...items.map((item) => item.getBoundingClientRect().height));
  const tops = items.map((item) => Math.round(item.getBoundingClientRect().top));
  return {height: row.getBoundingClientRect().height, single: tallest + padding,
          tops: tops, widths: items.map((item) => Math.round(item.getBoundingClientRect().width))};
}"""


def sign_in(portal, *, staff):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    user = User.objects.get(email="planerare.skane@lansstyrelsen.se")
    User.objects.filter(pk=user.pk).update(is_staff=staff, preferred_language="en")
    page = portal.page
    page.set_viewport_size({"width": 1280, "height": 900})
    portal.open("/accounts/login/")
    page.fill("#id_login", user.email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(portal.url + "/")
    return portal


@pytest.fixture
def signed_in_staff(portal, reference_organizations):
    return sign_in(portal, staff=True)


@pytest.mark.parametrize("staff", [True, False], ids=["staff", "member"])
def test_signed_in_header_is_one_line_at_desktop_widths_in_every_language(portal, staff):
    sign_in(portal, staff=staff)
    for width in (1280, 1200, 1100, 992):
        portal.page.set_viewport_size({"width": width, "height": 900})
        for language in ("en", "da", "sv"):
            portal.open("/")
            if portal.page.locator("html").get_attribute("lang") != language:
                portal.switch_language(language)
            assert portal.page.locator(".site-header .nav-link[href='/admin/']").count() == int(staff)
            box = portal.page.evaluate(SINGLE_LINE)
            assert box["height"] <= box["single"] + 1, (language, width, box)
            assert portal.page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [390, 992])
def test_signed_in_header_wraps_without_sideways_scrolling(signed_in_staff, width):
    page = signed_in_staff.page
    page.set_viewport_size({"width": width, "height": 844})
    signed_in_staff.open("/")
    signed_in_staff.switch_language("da")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    header = page.locator(".site-header").bounding_box()
    assert header["height"] < 300  # wrapped onto a few rows, not one item a row
    signed_in_staff.assert_accessible()

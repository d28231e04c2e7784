"""Issue 11 (EU web accessibility directive): a member who uses only the keyboard finds an event,
registers for a date, moves to another date and cancels, and sees at every step where the focus
is (WCAG 2.1.1, 2.4.7). Keys: Tab to move, Enter and Space to act, arrows inside a radio group or
a select (what those controls take), and typing into text fields."""

import re

import pytest

from events.models import Registration
from tests import factories
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]

MAX_TABS = 120

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    type: el.getAttribute("type") || "",
    id: el.id,
    name: el.getAttribute("name") || "",
    value: el.value === undefined ? "" : String(el.value),
    href: el.getAttribute("href") || "",
    text: (el.innerText || "").trim().slice(0, 80),
    inRegisterForm: !!el.closest("form[action$='/register/']"),
    inMoveForm: !!el.closest("form[action*='/move/']"),
    inCancelForm: !!el.closest("form[action$='/cancel/']"),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    outlineColor: style.outlineColor,
    boxShadow: style.boxShadow,
  };
}"""


def _opaque_ring(box_shadow: str) -> bool:
    """A box-shadow ring of at least 2px in a solid colour (Bootstrap's 25 % glow is not)."""
    for colour, spread in re.findall(r"(rgba?\([^)]*\))\s+0px\s+0px\s+0px\s+([\d.]+)px", box_shadow):
        alpha = colour.split(",")[3].strip(" )") if colour.startswith("rgba") else "1"
        if float(spread) >= 2 and float(alpha) == 1:
            return True
    return False


def focus_visible(focused: dict) -> bool:
    outline = (
        focused["outlineStyle"] != "none"
        and focused["outlineWidth"] >= 2
        and "rgba(0, 0, 0, 0)" not in focused["outlineColor"]
    )
    return outline or _opaque_ring(focused["boxShadow"])


class Keyboard:
    """Tabs through a page, checking the focus indicator of every element the focus lands on."""

    def __init__(self, page):
        self.page = page
        self.seen = 0

    def focused(self) -> dict:
        return self.page.evaluate(FOCUSED)

    def tab_to(self, wanted, what: str) -> dict:
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Tab")
            focused = self.focused()
            if focused["tag"] == "body":  # past the end: the browser's own UI
                continue
            if not focus_visible(focused):
                # Chromium may style a date or month field a moment after focusing its inner
                # part, and Bootstrap animates rings in over 0.15 s: judge the settled style.
                self.page.wait_for_timeout(300)
                focused = self.focused()
                assert focus_visible(focused), f"focus not visible on {focused}"
            self.seen += 1
            if wanted(focused):
                return focused
        raise AssertionError(f"Tab never reached {what}")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def enter_and_wait(self) -> None:
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")


def _register(keys: Keyboard, occasion) -> None:
    """Choose `occasion` and register, however the event page offers the dates: radio buttons in
    the registration form, or a button or link per date leading to a confirmation step."""
    pk = str(occasion.pk)
    choice = keys.tab_to(
        lambda f: (
            (f["name"] == "occasion" and f["value"] == pk and f["tag"] in ("input", "button"))
            or (f["tag"] == "a" and f["href"].rstrip("/").endswith(f"/register/{pk}"))
        ),
        f"the date of {occasion.label}",
    )
    if choice["type"] == "radio":
        keys.press("Space")
    else:
        keys.enter_and_wait()
    keys.tab_to(
        lambda f: f["inRegisterForm"] and f["tag"] == "button" and f["type"] in ("submit", ""),
        "the Register button",
    )
    keys.enter_and_wait()


def test_keyboard_only_find_register_move_and_cancel_with_visible_focus(portal, member):
    event = factories.event(title="Keyboard workshop", capacities=(20, 20))
    first, second = event.occasions.order_by("starts_at")

    page = portal.open("/accounts/login/")
    keys = Keyboard(page)
    # The first Tab lands on the skip link: it too must show its focus.
    skip = keys.tab_to(lambda f: f["href"] == "#main", "the skip link")
    assert skip["text"]
    keys.tab_to(lambda f: f["id"] == "id_login", "the email field")
    page.keyboard.type(member.email)
    keys.tab_to(lambda f: f["id"] == "id_password", "the password field")
    page.keyboard.type(PASSWORD)
    keys.enter_and_wait()
    assert page.url == portal.url + "/"

    # Find the event: the header's Events link, then the event's card.
    keys.tab_to(lambda f: f["tag"] == "a" and f["href"] == "/events/", "the Events link")
    keys.enter_and_wait()
    keys.tab_to(lambda f: f["tag"] == "a" and f["text"] == event.title, "the event's title")
    keys.enter_and_wait()
    assert page.locator("h1").inner_text() == event.title

    _register(keys, first)
    registration = Registration.objects.get(user=member, event=event)
    assert registration.status == Registration.Status.CONFIRMED and registration.occasion == first

    # Move: the select takes the arrow keys, the button Enter.
    page.goto(portal.url + event.get_absolute_url())
    keys.tab_to(lambda f: f["inMoveForm"] and f["tag"] == "select", "the move select")
    for _ in range(5):
        if keys.focused()["value"] == str(second.pk):
            break
        keys.press("ArrowDown")
    assert keys.focused()["value"] == str(second.pk)
    keys.tab_to(lambda f: f["inMoveForm"] and f["tag"] == "button", "the Move button")
    keys.enter_and_wait()
    registration.refresh_from_db()
    assert registration.occasion == second and registration.status == Registration.Status.CONFIRMED

    # Cancel: the link to the confirmation page, then its button.
    page.goto(portal.url + event.get_absolute_url())
    keys.tab_to(lambda f: f["tag"] == "a" and f["href"].endswith("/cancel/"), "Cancel my registration")
    keys.enter_and_wait()
    keys.tab_to(lambda f: f["inCancelForm"] and f["tag"] == "button", "Yes, cancel")
    keys.enter_and_wait()
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert keys.seen > 15  # the checks ran on many elements, not only on the targets


def test_form_controls_show_the_strong_focus_and_dark_borders(portal):
    """Computed in Chromium: Bootstrap's own rules for fields, selects, checkboxes and header links
    must not win over the portal's focus style, and a field's edge is at least 3:1 on white."""
    page = portal.open("/newsletter/")
    keys = Keyboard(page)
    for wanted, what in [
        (lambda f: f["tag"] == "a" and f["href"] == "/events/", "a header link"),
        (lambda f: f["id"] == "language-select", "the language select"),
        (lambda f: f["tag"] == "input" and f["type"] == "email", "the email field"),
        (lambda f: f["tag"] == "input" and f["type"] in ("checkbox", "radio"), "a checkbox or radio"),
    ]:
        focused = keys.tab_to(wanted, what)
        assert focused["outlineStyle"] == "solid" and focused["outlineWidth"] >= 3, what
    border = page.evaluate(
        'getComputedStyle(document.querySelector("main input[type=email]")).borderTopColor'
    )
    assert border == "rgb(108, 117, 125)"  # #6c757d, 4.7:1 on white

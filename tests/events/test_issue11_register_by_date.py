"""Issue 11, defects 10 and 11: registering by choosing a date button. Each date says its seats,
whether the member's organization still has seats and how many colleagues chose it; a
confirmation step says what will happen before anything is saved, and the service then does
exactly that; the outcome is told once; a plain HTML client (no JavaScript) gets through."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.models import Registration
from events.services import registrations
from tests import factories
from tests.conftest import make_member
from tests.events.event_pages import detail_page

pytestmark = pytest.mark.usefixtures("reference_organizations")

Reason = Registration.WaitReason


def _confirm_url(event, occasion) -> str:
    return reverse("events:confirm_registration", args=[event.slug, occasion.pk])


def _card(page: str, occasion) -> str:
    """The date button of `occasion` and the facts under it, from the event page."""
    start = page.index(f'href="{_confirm_url(occasion.event, occasion)}"')
    return page[start : page.index("</ul>", start)]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the date buttons ---------------------------------------------------------------------------


def test_each_date_button_shows_its_seats_left_and_marks_the_full_one(client, member, other_member):
    event = factories.event(capacities=(3, 1))
    roomy, full = event.occasions.order_by("starts_at")
    registrations.register(other_member, full)
    client.force_login(member)

    page = client.get(detail_page(event)).text

    assert "3 seats left" in _text(_card(page, roomy)) and "Waiting list" not in _card(page, roomy)
    full_card = _text(_card(page, full))
    assert "Full – you join the waiting list" in full_card
    assert "Waiting list" in full_card  # in the button's own name, not only in the text under it
    # The seats form no longer lists the dates a second time above the buttons.
    assert "Dates and seats" not in page


def test_the_buttons_say_whether_the_organization_still_has_seats(client, member, colleague, aarhus):
    event = factories.event(capacities=(10, 10), quota=2)
    first, second = event.occasions.order_by("starts_at")
    registrations.register(colleague, first)
    client.force_login(member)

    page = client.get(detail_page(event)).text
    assert "Your organization has 1 of 2 seats left" in _text(_card(page, second))

    registrations.register(make_member("third@aarhus.dk", aarhus), second)
    page = client.get(detail_page(event)).text
    for occasion in (first, second):
        card = _text(_card(page, occasion))
        assert "Your organization's seats are taken – you join the waiting list" in card
        assert "Waiting list" in card


def test_an_unverified_member_is_told_the_verification_comes_first(client, unverified_member):
    event = factories.event(quota=2)
    client.force_login(unverified_member)

    card = _text(_card(client.get(detail_page(event)).text, event.occasions.get()))

    assert "Until an organizer has verified that you work at" in card and "you join the waiting list" in card


def test_the_buttons_count_colleagues_per_date_without_naming_them(
    client, member, colleague, other_member, unverified_member
):
    event = factories.event(capacities=(10, 10))
    first, second = event.occasions.order_by("starts_at")
    registrations.register(colleague, first)  # not listed: agreed to no list of names
    registrations.register(other_member, second)  # another organization
    client.force_login(member)

    page = client.get(detail_page(event)).text

    assert "1 colleague from your organization has chosen this date" in _text(_card(page, first))
    assert "colleague" not in _card(page, second)
    assert colleague.full_name not in page
    # Claiming an organization must not reveal who from it comes: no count without verification.
    client.force_login(unverified_member)
    assert "colleague" not in _card(client.get(detail_page(event)).text, second)


def test_no_date_buttons_for_someone_registered_or_when_registration_is_closed(client, member):
    now = timezone.now()
    closed = factories.event(opens_at=now - dt.timedelta(days=5), closes_at=now - dt.timedelta(days=1))
    event = factories.event()
    registrations.register(member, event.occasions.get())
    client.force_login(member)

    for shown in (closed, event):
        page = client.get(detail_page(shown)).text
        assert "date-choice" not in page and "Dates and seats" in page
        # Typing the confirmation address leads back to the panel, which says why.
        answer = client.get(_confirm_url(shown, shown.occasions.get()))
        assert answer.status_code == 302 and answer.url.endswith("#registration-heading")


def test_a_date_of_another_event_has_no_confirmation_step(client, member):
    event, other = factories.event(), factories.event()
    client.force_login(member)
    url = reverse("events:confirm_registration", args=[event.slug, other.occasions.get().pk])
    assert client.get(url).status_code == 404


# --- the confirmation step ----------------------------------------------------------------------


def test_the_confirmation_step_names_the_date_and_saves_nothing(client, member):
    event = factories.event(event_format="in_person")
    occasion = event.occasions.get()
    client.force_login(member)

    page = client.get(_confirm_url(event, occasion)).text

    assert "Confirm your registration" in page and occasion.display_label in page
    assert "You will get a seat on Occasion 1." in page
    assert 'name="diet"' in page and 'name="accessibility"' in page and 'name="listed"' in page
    assert f'type="hidden" name="occasion" value="{occasion.pk}"' in page
    assert not Registration.objects.exists()


def test_a_bad_value_on_the_confirmation_step_comes_back_next_to_the_field(client, member):
    event = factories.event(event_format="in_person")
    client.force_login(member)

    answer = client.post(
        reverse("events:register", args=[event.slug]),
        {"occasion": event.occasions.get().pk, "diet": "x" * 201},
    )

    assert answer.status_code == 400
    assert "Confirm your registration" in answer.text and 'id="error_1_id_diet"' in answer.text
    assert not Registration.objects.exists()


# What the confirmation step says for each outcome, and what the service records.
PREDICTION = {
    Reason.NONE: "You will get a seat on",
    Reason.FULL: "is full, so you will join its waiting list",
    Reason.QUOTA: "are taken, so you will join the waiting list",
    Reason.UNVERIFIED: "has not yet verified that you work at",
}


def _prediction(page: str) -> str:
    [said] = re.findall(r'class="alert [^"]*expected-outcome">([^<]*)<', page)
    [reason] = [reason for reason, words in PREDICTION.items() if words in said]
    return reason


@st.composite
def worlds(draw):
    """An event (1–3 dates, 1–3 seats each, a quota or none, sometimes released), who already
    holds seats or waits on which date, and whether the member is verified."""
    dates = draw(st.integers(1, 3))
    return {
        "capacities": tuple(draw(st.lists(st.integers(1, 3), min_size=dates, max_size=dates))),
        "quota": draw(st.one_of(st.none(), st.integers(1, 3))),
        "released": draw(st.booleans()),
        "verified": draw(st.booleans()),
        # (same organization as the member?, index of the date)
        "before": draw(st.lists(st.tuples(st.booleans(), st.integers(0, dates - 1)), max_size=6)),
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds())
def test_the_confirmation_step_predicts_what_the_service_then_does(client, aarhus, odense, settings, world):
    settings.REGISTRATION_RATE_LIMIT = 10_000  # every example registers the same people again
    with transaction.atomic():
        now = timezone.now()
        event = factories.event(
            capacities=world["capacities"],
            quota=world["quota"],
            release_at=now - dt.timedelta(hours=1) if world["released"] else None,
        )
        occasions = list(event.occasions.order_by("starts_at"))
        for number, (same, index) in enumerate(world["before"]):
            domain = "aarhus.dk" if same else "odense.dk"
            person = make_member(f"p{number}@{domain}", aarhus if same else odense)
            registrations.register(person, occasions[index])
        member = make_member("planner@aarhus.dk", aarhus)
        if not world["verified"]:
            member.organization_verified_at = None
            member.save(update_fields=["organization_verified_at"])
        client.force_login(member)

        for occasion in occasions:
            with transaction.atomic():
                predicted = _prediction(client.get(_confirm_url(event, occasion)).text)
                answer = client.post(
                    reverse("events:register", args=[event.slug]), {"occasion": occasion.pk}, follow=True
                )
                registration = Registration.objects.get(user=member)
                assert registration.wait_reason == predicted, (world, occasion)
                expected_status = (
                    Registration.Status.WAITLISTED if predicted else Registration.Status.CONFIRMED
                )
                assert registration.status == expected_status
                assert answer.status_code == 200
                transaction.set_rollback(True)
        transaction.set_rollback(True)


# --- the outcome, once ---------------------------------------------------------------------------


@pytest.mark.parametrize("full", [False, True])
def test_the_outcome_is_told_once_after_registering(client, member, other_member, full):
    event = factories.event(capacities=(1,))
    if full:
        registrations.register(other_member, event.occasions.get())
    client.force_login(member)

    answer = client.post(
        reverse("events:register", args=[event.slug]), {"occasion": event.occasions.get().pk}, follow=True
    )

    said = "number 1 on its waiting list" if full else "You have a seat on Occasion 1."
    assert answer.text.count(said) == 1
    assert answer.redirect_chain[-1][0].endswith("#registration-heading")


# --- without JavaScript ------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The links and forms of a page, as a browser without scripts sees them."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "date-choice" in (attrs.get("class") or ""):
            self.links.append(attrs["href"])
        elif tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method"), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name") and attrs.get("type") != "checkbox":
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def _parse(page: str) -> _Forms:
    parser = _Forms()
    parser.feed(page)
    return parser


def test_a_member_registers_by_date_with_links_and_a_form_only(client, member):
    event = factories.event(capacities=(5, 5))
    second = event.occasions.order_by("starts_at")[1]
    client.force_login(member)

    links = _parse(client.get(detail_page(event)).text).links
    assert len(links) == 2
    confirm = _parse(client.get(links[1]).text)
    [form] = [f for f in confirm.forms if f["action"] == reverse("events:register", args=[event.slug])]
    assert form["method"] == "post"
    answer = client.post(form["action"], form["fields"], follow=True)

    registration = Registration.objects.get(user=member)
    assert registration.occasion == second and registration.status == Registration.Status.CONFIRMED
    assert "You have a seat on Occasion 2." in answer.text

"""The evaluation a participant gives through the signed link: the whole occasion rated 1–5,
each programme item optionally, what they take home and a theme they wish for; one answer per
registration, changeable from the occasion's day until 14 days after it; participants only."""

import datetime as dt
import re

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from events import evaluation_links
from events.errors import RegistrationError
from events.models import AgendaItem, Evaluation, ItemRating, Occasion, Registration
from events.services import attendance, evaluations, registrations
from tests import factories

pytestmark = pytest.mark.usefixtures("reference_organizations")


def programme(event) -> tuple[AgendaItem, AgendaItem, AgendaItem]:
    def item(title, kind, hour):
        return AgendaItem.objects.create(
            event=event, day_part=1, starts=dt.time(hour), ends=dt.time(hour, 45), title=title, kind=kind
        )

    return (
        item("Charging hubs in Aarhus", AgendaItem.Kind.EXTERNAL_TALK, 13),
        item("Coffee", AgendaItem.Kind.BREAK, 14),
        item("Group work", AgendaItem.Kind.WORKSHOP, 15),
    )


@pytest.fixture
def held(member):
    event = factories.event(title="Ladeinfrastruktur")
    talk, coffee, workshop = programme(event)
    registration = registrations.register(member, event.occasions.get())
    factories.begun(registration.occasion)
    return registration, talk, coffee, workshop


def checked(html: str, name: str) -> str | None:
    """The value of the radio button of group `name` that is checked."""
    for tag in re.findall(rf'<input type="radio"[^>]*name="{name}"[^>]*>', html):
        if " checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


def link(registration) -> str:
    return evaluation_links.evaluation_path(registration)


# --- the service ---------------------------------------------------------------------------------


def test_a_second_answer_changes_the_first(held):
    registration, talk, _, workshop = held

    evaluations.evaluate(registration, rating=3, item_ratings={talk.pk: 2, workshop.pk: 5}, take_home="Hubs")
    evaluations.evaluate(registration, rating=4, item_ratings={talk.pk: 4}, theme_wish="Cargo bikes")

    evaluation = Evaluation.objects.get()
    assert (evaluation.rating, evaluation.take_home, evaluation.theme_wish) == (4, "", "Cargo bikes")
    assert dict(evaluation.item_ratings.values_list("agenda_item_id", "rating")) == {talk.pk: 4}


def test_items_of_another_event_are_not_rated(held):
    registration, talk, _, _ = held
    (other_talk, _, _) = programme(factories.event(title="Delebiler"))

    evaluations.evaluate(registration, rating=5, item_ratings={talk.pk: 5, other_talk.pk: 1})

    assert list(ItemRating.objects.values_list("agenda_item_id", flat=True)) == [talk.pk]


def test_the_evaluation_is_open_from_the_occasions_day_until_fourteen_days_after(member):
    occasion = factories.event(days_ahead=10).occasions.get()
    registration = registrations.register(member, occasion)

    with pytest.raises(RegistrationError) as early:
        evaluations.evaluate(registration, rating=4, item_ratings={})
    assert early.value.code == "not_open"

    evaluations.evaluate(registration, rating=4, item_ratings={}, at=occasion.starts_at.replace(hour=7))
    last_moment = occasion.ends_at + dt.timedelta(days=14) - dt.timedelta(seconds=1)
    evaluations.evaluate(registration, rating=5, item_ratings={}, at=last_moment)
    with pytest.raises(RegistrationError) as late:
        evaluations.evaluate(
            registration, rating=1, item_ratings={}, at=last_moment + dt.timedelta(seconds=1)
        )
    assert late.value.code == "closed"
    assert Evaluation.objects.get().rating == 5


def test_only_participants_evaluate(held, organizer, colleague):
    registration, _, _, _ = held
    Occasion.objects.filter(pk=registration.occasion_id).update(capacity=1)
    waiting = registrations.register(colleague, registration.occasion)
    assert waiting.status == Registration.Status.WAITLISTED
    with pytest.raises(RegistrationError) as refused:
        evaluations.evaluate(waiting, rating=5, item_ratings={})
    assert refused.value.code == "not_participant"

    attendance.record(registration.occasion, {registration.pk: False}, organizer=organizer)
    with pytest.raises(RegistrationError) as absent:
        evaluations.evaluate(registration, rating=5, item_ratings={})
    assert absent.value.code == "not_participant"
    assert not Evaluation.objects.exists()


# --- the signed link -----------------------------------------------------------------------------


def test_the_link_opens_only_its_own_registration(client, held, colleague):
    registration, _, _, _ = held
    other = registrations.register(colleague, registration.occasion)

    assert evaluation_links.registration_for(evaluation_links.token_for(registration)) == registration
    forged = f"{other.pk}:{evaluation_links.token_for(registration).split(':')[1]}"
    assert client.get(reverse("events:evaluation", args=[forged])).status_code == 404
    another_salt = signing.Signer(salt="events.calendar").sign(str(registration.pk))
    assert client.get(reverse("events:evaluation", args=[another_salt])).status_code == 404
    assert client.get(f"/events/evaluation/{registration.pk}/").status_code == 404


# --- the page ------------------------------------------------------------------------------------


def test_the_page_asks_for_the_whole_and_each_item_but_the_break(client, held):
    registration, talk, coffee, workshop = held

    response = client.get(link(registration))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Charging hubs in Aarhus" in html and "Group work" in html and "Coffee" not in html
    assert html.count("<fieldset") >= 3  # each rating a group of five with its legend
    assert 'name="rating"' in html and f'name="item_{talk.pk}"' in html


def test_answering_and_changing_the_answer_through_the_page(client, held):
    registration, talk, _, workshop = held

    response = client.post(
        link(registration),
        {"rating": "4", f"item_{talk.pk}": "5", "take_home": "Plan the hubs", "theme_wish": "Cargo bikes"},
        follow=True,
    )

    assert "Thank you for your evaluation." in response.content.decode()
    evaluation = Evaluation.objects.get(registration=registration)
    assert (evaluation.rating, evaluation.take_home, evaluation.theme_wish) == (
        4,
        "Plan the hubs",
        "Cargo bikes",
    )
    page = client.get(link(registration)).content.decode()
    assert checked(page, "rating") == "4" and checked(page, f"item_{talk.pk}") == "5"
    assert "Plan the hubs" in page and "You answered on" in page

    client.post(link(registration), {"rating": "2", f"item_{workshop.pk}": "3"})
    evaluation.refresh_from_db()
    assert evaluation.rating == 2 and Evaluation.objects.count() == 1
    assert dict(evaluation.item_ratings.values_list("agenda_item_id", "rating")) == {workshop.pk: 3}


def test_a_missing_or_impossible_rating_gets_its_message_next_to_the_field(client, held):
    registration, talk, _, _ = held

    response = client.post(link(registration), {"rating": "7", f"item_{talk.pk}": "0"})

    assert response.status_code == 400
    assert (
        "rating" in response.context["form"].errors and f"item_{talk.pk}" in response.context["form"].errors
    )
    assert not Evaluation.objects.exists()
    missing = client.post(link(registration), {"take_home": "x"})
    assert missing.context["form"].errors["rating"] == ["Choose a rating from 1 to 5."]


def test_a_closed_evaluation_says_so_and_saves_nothing(client, held):
    registration, _, _, _ = held
    long_ago = timezone.now() - dt.timedelta(days=30)
    Occasion.objects.filter(pk=registration.occasion_id).update(starts_at=long_ago, ends_at=long_ago)

    page = client.get(link(registration))
    posted = client.post(link(registration), {"rating": "5"})

    assert (
        "The evaluation closed on" in page.content.decode() and 'name="rating"' not in page.content.decode()
    )
    assert posted.status_code == 400
    assert not Evaluation.objects.exists()


def test_the_page_speaks_the_participants_language(client, held):
    registration, _, _, _ = held
    client.cookies["django_language"] = "da"

    html = client.get(link(registration), HTTP_ACCEPT_LANGUAGE="da").content.decode()

    assert "Evaluering" in html


def test_the_service_refuses_a_rating_outside_one_to_five(held):
    registration, talk, _, _ = held

    for rating, items in ((0, {}), (6, {}), (3, {talk.pk: 9})):
        with pytest.raises(RegistrationError) as refused:
            evaluations.evaluate(registration, rating=rating, item_ratings=items)
        assert refused.value.code == "rating"
    assert not Evaluation.objects.exists()

"""Organizers read an event's evaluations, for all its occasions or one: the rating of the whole
and of each programme item (average, answers, the spread 1–5), what participants take home and
the themes they wish for, without names; as Excel too; only their teams' events."""

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from events import evaluation_selectors
from events.models import AgendaItem
from events.services import evaluations, registrations
from tests import factories
from tests.events.admin_pages import make_members, other_team_organizer

pytestmark = pytest.mark.usefixtures("reference_organizations")


@pytest.fixture
def answered(aarhus):
    event = factories.event(title="Delebiler", capacities=(10, 10))
    talk = AgendaItem.objects.create(
        event=event,
        day_part=1,
        starts=dt.time(13),
        ends=dt.time(14),
        title="Car sharing in Odense",
        kind="external_talk",
    )
    first, second = event.occasions.order_by("starts_at")
    people = make_members(aarhus, 4, prefix="eval")
    answers = [
        (first, 5, 4, "Start small", "Cargo bikes"),
        (first, 3, None, "", ""),
        (second, 4, 2, "Ask the users", ""),
    ]
    for person, (occasion, rating, talk_rating, take_home, wish) in zip(people, answers, strict=False):
        registration = registrations.register(person, occasion)
        factories.begun(occasion)
        evaluations.evaluate(
            registration,
            rating=rating,
            item_ratings={talk.pk: talk_rating} if talk_rating else {},
            take_home=take_home,
            theme_wish=wish,
        )
    registrations.register(people[3], second)  # took part, did not answer
    return event, talk, first, second


def answered_people(event):
    return [registration.user for registration in event.registrations.select_related("user")]


def test_results_count_every_rating_and_keep_the_free_text(answered):
    event, talk, first, second = answered

    results = evaluation_selectors.results(event)

    assert (results.answers, results.participants, results.response_rate) == (3, 4, 75)
    assert results.whole.spread == [(1, 0), (2, 0), (3, 1), (4, 1), (5, 1)] and results.whole.average == 4.0
    (item,) = results.items
    assert (item.label, item.answers, item.average) == ("Car sharing in Odense", 2, 3.0)
    assert results.take_home == ["Start small", "Ask the users"]
    assert results.theme_wishes == ["Cargo bikes"]
    one = evaluation_selectors.results(event, first)
    assert (one.answers, one.participants, one.whole.average) == (2, 2, 4.0)


def test_the_page_shows_the_results_without_names(organizer_client, answered):
    event, _, first, _ = answered

    response = organizer_client.get(reverse("admin:events_event_evaluations", args=[event.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Answered: 3 of 4 participants (75 %)." in html
    assert "Car sharing in Odense" in html and "Start small" in html and "Cargo bikes" in html
    for person in answered_people(event):
        assert person.email not in html and person.full_name not in html  # no names, no addresses
    one = organizer_client.get(
        reverse("admin:events_event_evaluations", args=[event.pk]), {"occasion": first.pk}
    )
    assert "Answered: 2 of 2 participants (100 %)." in one.content.decode()
    wrong = organizer_client.get(
        reverse("admin:events_event_evaluations", args=[event.pk]), {"occasion": "x"}
    )
    assert wrong.status_code == 200 and "occasion" in wrong.context["form"].errors


def test_the_results_download_as_excel(organizer_client, answered):
    event = answered[0]

    response = organizer_client.get(reverse("admin:events_event_evaluations_xlsx", args=[event.pk]))

    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Ratings", "What they take home", "Theme wishes", "About"]
    rows = list(workbook["Ratings"].values)
    assert rows[0] == ("Question", "Answers", "Average", "1", "2", "3", "4", "5")
    assert rows[1] == ("The event as a whole", 3, 4, 0, 0, 1, 1, 1)
    assert [row[0] for row in workbook["What they take home"].values] == [
        "Answer",
        "Start small",
        "Ask the users",
    ]


def test_another_teams_organizer_does_not_see_the_results(client, organizer, answered):
    outsider = other_team_organizer(organizer)
    client.force_login(outsider)

    assert client.get(reverse("admin:events_event_evaluations", args=[answered[0].pk])).status_code in (
        302,
        404,
    )
    assert client.get(reverse("admin:events_event_evaluations_xlsx", args=[answered[0].pk])).status_code in (
        302,
        404,
    )


def test_the_event_page_in_admin_offers_the_results(organizer_client, answered):
    html = organizer_client.get(reverse("admin:events_event_change", args=[answered[0].pk])).content.decode()

    assert reverse("admin:events_event_evaluations", args=[answered[0].pk]) in html


def test_the_page_shows_the_follow_up_email_as_a_participant_gets_it(organizer_client, organizer, answered):
    event, _, _, second = answered
    url = reverse("admin:events_event_evaluations", args=[event.pk])

    response = organizer_client.get(url, {"occasion": second.pk})

    preview = response.context["follow_up"]
    assert preview.subject == "Thank you for taking part: Delebiler"
    assert f"Dear {organizer.full_name}," in preview.text and second.display_label in preview.text
    assert "/events/evaluation/0:preview/" in preview.text  # opens no one's evaluation
    html = response.content.decode()
    assert "The follow-up email" in html and "Turn it off with Follow-up email" in html
    assert 'class="message-preview-html" sandbox srcdoc="' in html
    assert "'unsafe-inline'" in response["Content-Security-Policy"].split("style-src-attr")[1].split(";")[0]

    event.sends_follow_up = False
    event.save(update_fields=["sends_follow_up"])
    assert "participants get no follow-up email" in organizer_client.get(url).content.decode()


def test_an_event_without_dates_has_no_follow_up_to_preview(organizer_client):
    event = factories.event(title="Undated")
    event.occasions.update(starts_at=None, ends_at=None)

    response = organizer_client.get(reverse("admin:events_event_evaluations", args=[event.pk]))

    assert response.context["follow_up"] is None
    assert "The preview needs an occasion with dates." in response.content.decode()

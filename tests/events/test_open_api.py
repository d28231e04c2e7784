"""The open events API (/api/v1/, events/api.py): published events for the network's own
website, with filters, pages, an ETag and a limit per client; drafts and anything personal never
appear. The contract against the OpenAPI document is tests/events/test_open_api_contract.py."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import AgendaItem, ContactPerson, Event, Speaker
from events.services import registrations
from network_portal import page_cache
from tests import factories

pytestmark = pytest.mark.usefixtures("reference_organizations")
EVENTS = "/api/v1/events/"


def _get(path, client=None, **headers) -> tuple[int, dict]:
    response = (client or Client()).get(path, **headers)
    return response.status_code, json.loads(response.content) if response.content else {}


@pytest.fixture
def network(db, member):
    """A published event with a person in every place a person can be, a second one on another
    theme in Danish, a cancelled one and a draft."""
    cycling = factories.theme("cycling", "Cycling")
    charging = factories.theme("charging", "Charging infrastructure")
    charging.name_da = "Ladeinfrastruktur"
    charging.save()
    workshop = factories.event(title="Charging hubs", capacities=(3, 5), main_theme=charging)
    workshop.themes.add(cycling)
    contact = ContactPerson.objects.create(name="Karin Contact", email="karin@kl.dk", phone="+45 1234 5678")
    workshop.contacts.add(contact)
    item = AgendaItem.objects.create(
        event=workshop,
        starts=dt.time(13),
        ends=dt.time(14),
        title="Welcome",
        kind=AgendaItem.Kind.ORGANIZER_TALK,
    )
    item.speakers.add(Speaker.objects.create(name="Sven Speaker", organization="Region Skåne"))
    registrations.register(member, workshop.occasions.order_by("starts_at").first(), listed=True)
    danish = factories.event(title="Cykelstier", days_ahead=60, main_theme=cycling)
    Event.objects.filter(pk=danish.pk).update(language="da")
    cancelled = factories.event(title="Called off", days_ahead=45, status=Event.Status.CANCELLED)
    draft = factories.event(title="Secret plans", days_ahead=40, status=Event.Status.DRAFT)
    return {"workshop": workshop, "danish": danish, "cancelled": cancelled, "draft": draft, "member": member}


def test_published_events_with_dates_seats_and_registration_state(network):
    status, page = _get(EVENTS)
    assert status == 200
    assert [event["title"] for event in page["items"]] == ["Charging hubs", "Called off", "Cykelstier"]
    assert page["count"] == 3
    workshop = page["items"][0]
    assert workshop["url"].startswith("http") and workshop["url"].endswith(
        network["workshop"].get_absolute_url()
    )
    assert workshop["registration"] == "open" and workshop["status"] == "published"
    assert [theme["slug"] for theme in workshop["themes"]] == ["charging", "cycling"]
    assert workshop["themes"][0]["names"] == {
        "en": "Charging infrastructure",
        "da": "Ladeinfrastruktur",
        "sv": "",
    }
    first, second = workshop["occasions"]
    assert (first["capacity"], first["seats_left"], second["seats_left"]) == (3, 2, 5)
    assert first["day_parts"][0]["number"] == 1 and first["starts_at"]
    assert page["items"][1]["status"] == "cancelled" and page["items"][1]["registration"] == "cancelled"


def test_a_draft_is_not_there_even_by_its_address(network):
    status, page = _get(EVENTS)
    assert "Secret plans" not in json.dumps(page)
    assert _get(f"{EVENTS}{network['draft'].slug}/")[0] == 404


def test_one_event_with_its_programme(network):
    status, event = _get(f"{EVENTS}{network['workshop'].slug}/")
    assert status == 200
    assert event["programme"] == [
        {
            "day_part": 1,
            "starts": "13:00:00",
            "ends": "14:00:00",
            "title": "Welcome",
            "kind": "organizer_talk",
        }
    ]
    assert "description_html" in event and event["occasions"][0]["seats_left"] == 2


def test_nothing_personal_anywhere(network, member):
    """No participant, contact person, speaker or meeting link, in a list, an event or the
    document that describes them."""
    answers = [
        Client().get(path).content.decode()
        for path in (EVENTS, f"{EVENTS}{network['workshop'].slug}/", "/api/v1/openapi.json")
    ]
    personal = [
        member.email, member.full_name, "karin@kl.dk", "Karin Contact", "1234 5678", "Sven Speaker",
        "Region Skåne", "meet.example.org", "planner",
    ]  # fmt: skip
    for answer in answers:
        assert not [word for word in personal if word in answer], answer[:500]


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("?theme=cycling", ["Charging hubs", "Cykelstier"]),  # the main theme or another
        ("?theme=charging", ["Charging hubs", "Called off"]),  # the factory's default theme
        ("?theme=no-such-theme", []),
        ("?language=da", ["Cykelstier"]),
        ("?to={in_50_days}", ["Charging hubs", "Called off"]),
        ("?from={in_50_days}", ["Cykelstier"]),
        ("?page_size=2&page=2", ["Cykelstier"]),
    ],
)
def test_filters_and_pages(network, query, titles):
    in_50_days = (timezone.localdate() + dt.timedelta(days=50)).isoformat()
    status, page = _get(EVENTS + query.format(in_50_days=in_50_days))
    assert status == 200 and [event["title"] for event in page["items"]] == titles


def test_past_events_from_an_earlier_day(network):
    Event.objects.filter(pk=network["danish"].pk).update(
        starts_at=timezone.now() - dt.timedelta(days=10), ends_at=timezone.now() - dt.timedelta(days=9)
    )
    assert "Cykelstier" not in json.dumps(_get(EVENTS)[1])
    earlier = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    assert "Cykelstier" in json.dumps(_get(f"{EVENTS}?from={earlier}")[1])


def test_bad_filters_are_refused_with_a_message_not_a_500(network):
    for query in ("?from=yesterday", "?page=0", "?page_size=1000", "?language=de"):
        status, answer = _get(EVENTS + query)
        assert status == 422 and answer["detail"], query


def test_an_etag_answers_not_modified_until_the_seats_change(
    network, settings, colleague, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_SECONDS = 300
    page_cache.cache.clear()
    path = f"{EVENTS}{network['workshop'].slug}/"
    response = Client().get(path)
    etag = response["ETag"]
    assert etag and response["Access-Control-Allow-Origin"] == "*"
    with CaptureQueriesContext(connection) as queries:
        again = Client().get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert not [query for query in queries.captured_queries if "events_" in query["sql"]]  # from the cache
    with django_capture_on_commit_callbacks(execute=True):
        registrations.register(colleague, network["workshop"].occasions.order_by("starts_at").first())
    changed = Client().get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert json.loads(changed.content)["occasions"][0]["seats_left"] == 1


def test_a_client_over_the_limit_is_told_when_to_come_back(network, settings):
    settings.API_RATE_LIMIT = "3/m"
    for _ in range(3):
        assert Client().get(EVENTS, REMOTE_ADDR="192.0.2.1").status_code == 200
    refused = Client().get(EVENTS, REMOTE_ADDR="192.0.2.1")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused["Access-Control-Allow-Origin"] == "*"
    assert "Too many requests" in json.loads(refused.content)["detail"]
    assert Client().get(EVENTS, REMOTE_ADDR="192.0.2.2").status_code == 200  # another client


def test_the_list_is_a_fixed_number_of_queries(network):
    with CaptureQueriesContext(connection) as few:
        Client().get(EVENTS)
    for index in range(5):
        factories.event(title=f"More {index}", capacities=(10, 10))
    with CaptureQueriesContext(connection) as many:
        Client().get(EVENTS)
    events_queries = [query for query in many.captured_queries if "events_" in query["sql"]]
    # The events, their count, themes, occasions with their seats, day parts.
    assert len(events_queries) == len([q for q in few.captured_queries if "events_" in q["sql"]]) == 5


def test_errors_under_the_api_are_json(db):
    for path, status in (("/api/v1/no-such-thing/", 404), ("/api/v1/events/?theme=a%00b", 400)):
        response = Client().get(path)
        assert response.status_code == status and response["Content-Type"] == "application/json"
        assert json.loads(response.content)["detail"]


@pytest.mark.parametrize("query", ["page=132098704658194268160", "page=1000001", "series=a%00b"])
def test_a_page_past_the_bound_or_a_nul_is_refused_not_a_server_error(client, query):
    """What schemathesis found: a page whose offset overflows the database's integers was a
    500; the document now bounds it. A NUL anywhere is refused (400), as the document says."""
    response = client.get(f"/api/v1/events/?{query}")
    assert response.status_code in (400, 422), response.status_code

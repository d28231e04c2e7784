import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.models import Event, Registration
from events.services import lifecycle, registrations
from tests import factories
from tests.conftest import make_member
from tests.events.event_pages import detail_page

pytestmark = pytest.mark.usefixtures("reference_organizations")


# --- list and filters -----------------------------------------------------------------------


def test_list_shows_published_upcoming_events_with_seats_left(client, member):
    event = factories.event(title="Charging meeting", capacities=(28, 10))
    factories.event(title="Draft meeting", status=Event.Status.DRAFT)
    registrations.register(member, event.occasions.first())
    page = client.get(reverse("events:list"))
    assert page.status_code == 200
    assert "Charging meeting" in page.text and "Draft meeting" not in page.text
    assert "27 of 28 seats left" in page.text and "10 of 10 seats left" in page.text


def test_full_occasion_shows_waiting_list(client, member):
    event = factories.event(capacities=(1,))
    registrations.register(member, event.occasions.get())
    assert "full – waiting list" in client.get(reverse("events:list")).text


def test_list_filters_by_theme_format_series_month_and_past(client, db):
    cycling = factories.theme("cycling", "Cycling infrastructure")
    factories.event(title="Bike day", main_theme=cycling, event_format=Event.Format.IN_PERSON, days_ahead=40)
    charging = factories.event(title="Charging day", days_ahead=70)
    past = factories.event(title="Old meeting", days_ahead=20)
    Event.objects.filter(pk=past.pk).update(
        starts_at=timezone.now() - dt.timedelta(days=10), ends_at=timezone.now() - dt.timedelta(days=10)
    )

    def titles(**params):
        text = client.get(reverse("events:list"), params).text
        return {title for title in ("Bike day", "Charging day", "Old meeting") if title in text}

    assert titles() == {"Bike day", "Charging day"}
    assert titles(theme="cycling") == {"Bike day"}
    assert titles(format="in_person") == {"Bike day"}
    assert titles(when="past") == {"Old meeting"}
    month = timezone.localtime(charging.starts_at).strftime("%Y-%m")
    assert "Charging day" in titles(month=month)


@pytest.mark.parametrize(
    "params", [{"month": "not-a-month"}, {"theme": "no-such-theme"}, {"format": "teleport"}, {"when": "x"}]
)
def test_bad_filters_are_reported_next_to_the_field_never_a_500(client, db, params):
    page = client.get(reverse("events:list"), params)
    assert page.status_code == 200
    assert "invalid-feedback" in page.text


def test_list_page_queries_do_not_grow_with_events(client, member):
    factories.event(capacities=(5, 5))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("events:list"))
    for _ in range(6):
        event = factories.event(capacities=(5, 5, 5))
        registrations.register(
            make_member(f"x{event.pk}@aarhus.dk", member.organization), event.occasions.first()
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("events:list"))
    assert len(many) == len(few)


def test_event_page_queries_do_not_grow_with_registrations(client, member, aarhus):
    event = factories.event(capacities=(40, 40), half_days=2)
    client.force_login(member)
    with CaptureQueriesContext(connection) as few:
        client.get(detail_page(event))
    for index in range(10):
        registrations.register(
            make_member(f"c{index}@aarhus.dk", aarhus), event.occasions.first(), listed=True
        )
    with CaptureQueriesContext(connection) as many:
        client.get(detail_page(event))
    assert len(many) == len(few)


# --- detail ---------------------------------------------------------------------------------


def test_drafts_are_hidden_from_members_and_previewed_by_organizers(client, member, organizer):
    event = factories.event(status=Event.Status.DRAFT)
    assert client.get(detail_page(event)).status_code == 404
    client.force_login(member)
    assert client.get(detail_page(event)).status_code == 404
    client.force_login(organizer)
    assert "only organizers see this page" in client.get(detail_page(event)).text


def test_description_markdown_is_sanitized(client, db):
    event = factories.event()
    event.description = (
        "**Bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    event.save()
    page = client.get(detail_page(event)).text
    assert "<strong>Bold</strong>" in page
    assert "<script>alert" not in page and "javascript:" not in page and "onerror" not in page


def test_meeting_link_only_for_confirmed_participants(client, member, colleague, other_member):
    event = factories.event(capacities=(1,))
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    registrations.register(other_member, occasion)  # waiting
    link = occasion.online_url

    assert link not in client.get(detail_page(event)).text  # anonymous
    client.force_login(colleague)
    assert link not in client.get(detail_page(event)).text  # not registered
    client.force_login(other_member)
    assert link not in client.get(detail_page(event)).text  # waiting
    client.force_login(member)
    assert link in client.get(detail_page(event)).text


def test_colleagues_are_shown_only_when_they_consented(client, member, colleague, aarhus):
    event = factories.event()
    shy = make_member("shy@aarhus.dk", aarhus, full_name="Shy Person")
    registrations.register(colleague, event.occasions.get(), listed=True)
    registrations.register(shy, event.occasions.get(), listed=False)
    client.force_login(member)
    page = client.get(detail_page(event)).text
    assert "Mette Aarhus" in page and "Shy Person" not in page


def test_page_offers_another_occasion_with_free_seats(client, member, other_member):
    event = factories.event(capacities=(1, 5))
    first = event.occasions.first()
    registrations.register(other_member, first)
    registrations.register(member, first)
    client.force_login(member)
    page = client.get(detail_page(event)).text
    assert "Seats are free on another occasion" in page
    assert "number 1 on its waiting list" in page


def test_appearing_on_the_participant_list_is_opt_in(client, member):
    event = factories.event()
    client.force_login(member)
    # The box is on the confirmation step that follows a date button.
    page = client.get(
        reverse("events:confirm_registration", args=[event.slug, event.occasions.get().pk])
    ).text
    assert (
        'name="listed"' in page and 'name="listed" class="checkboxinput form-check-input" checked' not in page
    )
    client.post(reverse("events:register", args=[event.slug]), {"occasion": event.occasions.get().pk})
    assert Registration.objects.get(user=member).listed is False


def test_no_meeting_link_on_the_page_of_a_cancelled_event(client, member, organizer):
    event = factories.event()
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    lifecycle.cancel_event(event, organizer=organizer)
    client.force_login(member)
    assert occasion.online_url not in client.get(detail_page(event)).text


def test_an_occasion_without_a_label_shows_its_local_date(member):
    event = factories.event()
    occasion = event.occasions.get()
    occasion.label = ""
    occasion.save()
    from django.utils.formats import date_format

    assert occasion.display_label == date_format(timezone.localtime(occasion.starts_at), "DATE_FORMAT")
    registration = registrations.register(member, occasion)
    from events.views import outcome_message

    assert occasion.display_label in outcome_message(registration)


def test_an_occasion_without_a_date_takes_no_registrations(member):
    from events.errors import RegistrationError
    from events.models import Occasion

    event = factories.event()
    undated = Occasion.objects.create(event=event, capacity=5)
    with pytest.raises(RegistrationError) as error:
        registrations.register(member, undated)
    assert error.value.code == "no_date"


def test_uploaded_documents_are_served_and_drafts_stay_private(client, member, organizer, settings, tmp_path):
    from django.core.files.base import ContentFile

    from events.models import Document

    settings.MEDIA_ROOT = tmp_path
    event = factories.event()
    document = Document.objects.create(
        event=event, title="Slides", file=ContentFile(b"%PDF-1.4 slides", name="slides.pdf")
    )
    assert document.href == reverse("events:document", args=[document.pk])
    response = client.get(document.href)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 slides"
    assert f'href="{document.href}"' in client.get(detail_page(event)).text

    event.status = Event.Status.DRAFT
    event.save()
    assert client.get(document.href).status_code == 404
    client.force_login(organizer)
    assert client.get(document.href).status_code == 200

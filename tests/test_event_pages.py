"""Event pages: what each person sees and may do, bad input, and query counts."""

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

pytestmark = pytest.mark.usefixtures("reference_organizations")


def _detail(event):
    return reverse("events:detail", args=[event.slug])


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
        client.get(_detail(event))
    for index in range(10):
        registrations.register(
            make_member(f"c{index}@aarhus.dk", aarhus), event.occasions.first(), listed=True
        )
    with CaptureQueriesContext(connection) as many:
        client.get(_detail(event))
    assert len(many) == len(few)


# --- detail ---------------------------------------------------------------------------------


def test_drafts_are_hidden_from_members_and_previewed_by_organizers(client, member, organizer):
    event = factories.event(status=Event.Status.DRAFT)
    assert client.get(_detail(event)).status_code == 404
    client.force_login(member)
    assert client.get(_detail(event)).status_code == 404
    client.force_login(organizer)
    assert "only organizers see this page" in client.get(_detail(event)).text


def test_description_markdown_is_sanitized(client, db):
    event = factories.event()
    event.description = (
        "**Bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    event.save()
    page = client.get(_detail(event)).text
    assert "<strong>Bold</strong>" in page
    assert "<script>alert" not in page and "javascript:" not in page and "onerror" not in page


def test_meeting_link_only_for_confirmed_participants(client, member, colleague, other_member):
    event = factories.event(capacities=(1,))
    occasion = event.occasions.get()
    registrations.register(member, occasion)
    registrations.register(other_member, occasion)  # waiting
    link = occasion.online_url

    assert link not in client.get(_detail(event)).text  # anonymous
    client.force_login(colleague)
    assert link not in client.get(_detail(event)).text  # not registered
    client.force_login(other_member)
    assert link not in client.get(_detail(event)).text  # waiting
    client.force_login(member)
    assert link in client.get(_detail(event)).text


def test_colleagues_are_shown_only_when_they_consented(client, member, colleague, aarhus):
    event = factories.event()
    shy = make_member("shy@aarhus.dk", aarhus, full_name="Shy Person")
    registrations.register(colleague, event.occasions.get(), listed=True)
    registrations.register(shy, event.occasions.get(), listed=False)
    client.force_login(member)
    page = client.get(_detail(event)).text
    assert "Mette Aarhus" in page and "Shy Person" not in page


def test_page_offers_another_occasion_with_free_seats(client, member, other_member):
    event = factories.event(capacities=(1, 5))
    first = event.occasions.first()
    registrations.register(other_member, first)
    registrations.register(member, first)
    client.force_login(member)
    page = client.get(_detail(event)).text
    assert "Seats are free on another occasion" in page
    assert "number 1 on its waiting list" in page


# --- register, cancel, move -----------------------------------------------------------------


def test_anonymous_register_goes_to_login(client, db):
    event = factories.event()
    response = client.post(
        reverse("events:register", args=[event.slug]), {"occasion": event.occasions.get().pk}
    )
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert Registration.objects.count() == 0


def test_register_through_the_page(client, member):
    event = factories.event()
    client.force_login(member)
    response = client.post(
        reverse("events:register", args=[event.slug]),
        {"occasion": event.occasions.get().pk, "accessibility": "Step-free access", "listed": "on"},
        follow=True,
    )
    assert "You have a seat on Occasion 1." in response.text
    registration = Registration.objects.get(user=member)
    assert registration.accessibility == "Step-free access" and registration.listed


def test_register_with_a_foreign_occasion_is_refused_next_to_the_field(client, member):
    event = factories.event()
    other = factories.event()
    client.force_login(member)
    response = client.post(
        reverse("events:register", args=[event.slug]), {"occasion": other.occasions.get().pk}
    )
    assert response.status_code == 400
    assert "Choose one of the occasions of this event." in response.text
    assert Registration.objects.count() == 0


def test_register_when_closed_shows_the_reason(client, member):
    now = timezone.now()
    event = factories.event(opens_at=now - dt.timedelta(days=5), closes_at=now - dt.timedelta(days=1))
    client.force_login(member)
    response = client.post(
        reverse("events:register", args=[event.slug]), {"occasion": event.occasions.get().pk}
    )
    assert response.status_code == 400
    assert "Registration is closed." in response.text


def test_register_get_is_not_allowed(client, member):
    event = factories.event()
    client.force_login(member)
    assert client.get(reverse("events:register", args=[event.slug])).status_code == 405


def test_cancel_shows_a_confirmation_then_cancels_on_post(client, member):
    registration = registrations.register(member, factories.event().occasions.get())
    client.force_login(member)
    url = reverse("events:cancel", args=[registration.pk])
    assert "Yes, cancel" in client.get(url).text
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    client.post(url)
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED


@pytest.mark.parametrize("who", ["anonymous", "other_member", "colleague"])
def test_nobody_else_sees_or_changes_my_registration(client, member, colleague, other_member, who):
    event = factories.event(capacities=(5, 5))
    registration = registrations.register(member, event.occasions.first())
    if who != "anonymous":
        client.force_login({"other_member": other_member, "colleague": colleague}[who])
    cancel = client.post(reverse("events:cancel", args=[registration.pk]))
    move = client.post(
        reverse("events:move", args=[registration.pk]), {"occasion": event.occasions.last().pk}
    )
    expected = 302 if who == "anonymous" else 404
    assert cancel.status_code == expected and move.status_code == expected
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.occasion == event.occasions.first()


def test_move_through_the_page(client, member):
    event = factories.event(capacities=(5, 5))
    first, second = event.occasions.all()
    registration = registrations.register(member, first)
    client.force_login(member)
    client.post(reverse("events:move", args=[registration.pk]), {"occasion": second.pk})
    registration.refresh_from_db()
    assert registration.occasion == second


def test_move_to_a_full_occasion_keeps_the_seat_and_says_so(client, member, other_member):
    event = factories.event(capacities=(5, 1))
    first, second = event.occasions.all()
    registrations.register(other_member, second)
    registration = registrations.register(member, first)
    client.force_login(member)
    page = client.post(reverse("events:move", args=[registration.pk]), {"occasion": second.pk}, follow=True)
    assert "You keep your seat" in page.text
    registration.refresh_from_db()
    assert registration.occasion == first


def test_my_registrations_lists_only_mine(client, member, other_member):
    mine = factories.event(title="Mine")
    theirs = factories.event(title="Theirs")
    registrations.register(member, mine.occasions.get())
    registrations.register(other_member, theirs.occasions.get())
    client.force_login(member)
    page = client.get(reverse("events:my_registrations")).text
    assert "Mine" in page and "Theirs" not in page


# --- coordinator ----------------------------------------------------------------------------


def test_coordinator_registers_a_colleague_within_the_quota(client, member, colleague, other_member):
    member.is_organization_coordinator = True
    member.save()
    event = factories.event(quota=1)
    url = reverse("events:organization_seats", args=[event.slug])
    client.force_login(member)
    page = client.get(url)
    assert page.status_code == 200 and colleague.email in page.text and other_member.email not in page.text
    client.post(url, {"member": colleague.pk, "occasion": event.occasions.get().pk})
    assert Registration.objects.get(user=colleague).status == Registration.Status.CONFIRMED
    # Another organization's member cannot be registered from here.
    response = client.post(url, {"member": other_member.pk, "occasion": event.occasions.get().pk})
    assert response.status_code == 400
    assert not Registration.objects.filter(user=other_member).exists()


def test_organization_page_is_for_coordinators_only(client, member):
    event = factories.event()
    client.force_login(member)
    assert client.get(reverse("events:organization_seats", args=[event.slug])).status_code == 403


def test_series_and_theme_pages(client, db):
    from events.models import Series

    series = Series.objects.create(title="KL network", slug="kl-network", description="About *us*")
    event = factories.event(title="In the series")
    event.series = series
    event.save()
    page = client.get(series.get_absolute_url())
    assert "In the series" in page.text and "<em>us</em>" in page.text
    assert "In the series" in client.get(event.main_theme.get_absolute_url()).text


def test_theme_stylesheet_holds_only_valid_colours(client, db):
    theme = factories.theme("public-transport", "Public transport")
    theme.colour = "#0b5394"
    theme.save()
    css = client.get(reverse("events:theme_stylesheet"))
    assert css["Content-Type"].startswith("text/css")
    assert ".theme-public-transport { background: #0b5394;" in css.text


def test_coordinator_moves_a_colleague_from_the_organization_page(client, member, colleague):
    member.is_organization_coordinator = True
    member.save()
    event = factories.event(capacities=(5, 5), quota=4)
    first, second = event.occasions.all()
    registration = registrations.register(colleague, first)
    client.force_login(member)
    page = client.get(reverse("events:organization_seats", args=[event.slug])).text
    assert reverse("events:move", args=[registration.pk]) in page
    client.post(reverse("events:move", args=[registration.pk]), {"occasion": second.pk})
    registration.refresh_from_db()
    assert registration.occasion == second


# --- found in review --------------------------------------------------------------------------


def test_coordinator_page_refuses_a_typed_member_id_without_a_500(client, member):
    member.is_organization_coordinator = True
    member.save()
    event = factories.event()
    client.force_login(member)
    url = reverse("events:organization_seats", args=[event.slug])
    for value in ("abc", "", "99999"):
        response = client.post(url, {"member": value, "occasion": event.occasions.get().pk})
        assert response.status_code == 400 and "Choose a colleague." in response.text
    assert not Registration.objects.exists()


def test_an_unverified_claim_reveals_no_colleague_names(client, colleague, unverified_member, odense):
    event = factories.event()
    insider = make_member("insider@odense.dk", odense, full_name="Inside Person")
    registrations.register(insider, event.occasions.get(), listed=True)
    client.force_login(unverified_member)
    assert "Inside Person" not in client.get(_detail(event)).text


def test_appearing_on_the_participant_list_is_opt_in(client, member):
    event = factories.event()
    client.force_login(member)
    page = client.get(_detail(event)).text
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
    assert occasion.online_url not in client.get(_detail(event)).text


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
    assert f'href="{document.href}"' in client.get(_detail(event)).text

    event.status = Event.Status.DRAFT
    event.save()
    assert client.get(document.href).status_code == 404
    client.force_login(organizer)
    assert client.get(document.href).status_code == 200

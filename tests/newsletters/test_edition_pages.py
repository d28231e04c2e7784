"""What an edition looks like: the rendered email, the public archive and web version, and the
organizers' admin pages."""

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation

from events.models import Document
from newsletters import delivery, rendering
from newsletters.models import Delivery, Edition, Subscriber
from tests import factories
from tests.newsletters.editions import make_edition, make_subscriber, start_sending

ACTIVE, PENDING_SUB, UNSUBSCRIBED, BOUNCING = (
    Subscriber.Status.ACTIVE,
    Subscriber.Status.PENDING,
    Subscriber.Status.UNSUBSCRIBED,
    Subscriber.Status.BOUNCING,
)
DRAFT, SCHEDULED, SENDING, SENT = (
    Edition.Status.DRAFT,
    Edition.Status.SCHEDULED,
    Edition.Status.SENDING,
    Edition.Status.SENT,
)


# ---------------------------------------------------------------------------------------------
# Rendering


@pytest.fixture
def edition_with_blocks(db):
    event = factories.event(title="Charging meeting", capacities=(20,))
    Document.objects.create(event=event, title="Charging handbook", url="https://example.org/handbook.pdf")
    draft = factories.event(title="Secret draft", status="draft")
    Document.objects.create(event=draft, title="Not yet public", url="https://example.org/draft.pdf")
    return make_edition(include_upcoming_events=True, include_recent_materials=True)


def test_the_email_has_body_blocks_and_personal_links(edition_with_blocks, settings):
    settings.SITE_URL = "https://portal.example.org"
    subscriber = make_subscriber("reader@example.org")
    subject, text, html = rendering.render_edition(edition_with_blocks, subscriber)
    assert subject == "Spring on two wheels"
    assert "display:none" in html and "Cargo bikes, charging and a new handbook" in html
    assert "<strong>cycling</strong>" in html and "<script>" not in html
    assert "Charging meeting" in html and "20 of 20 seats left" in html and "20 of 20 seats left" in text
    assert "Charging handbook" in html and "https://example.org/handbook.pdf" in text
    assert "Secret draft" not in html and "Not yet public" not in html
    web = f"https://portal.example.org/newsletter/archive/{edition_with_blocks.pk}/"
    assert web in html and web in text
    for url in rendering.personal_links(subscriber).values():
        assert url in text and url.replace("&", "&amp;") in html
    assert "newsletter-placeholder" not in html + text


def test_the_shared_part_is_read_once_for_many_subscribers(edition_with_blocks):
    readers = [make_subscriber(f"reader{n}@example.org", language=("en", "da")[n % 2]) for n in range(20)]
    renderer = rendering.EditionRenderer(edition_with_blocks)
    with CaptureQueriesContext(connection) as first:
        renderer.render(readers[0])
    with CaptureQueriesContext(connection) as rest:
        for reader in readers[1:]:
            renderer.render(reader)
    assert len(first.captured_queries) <= 5
    assert len(rest.captured_queries) == 0
    unsubscribe_links = {renderer.render(reader)[1].split("Unsubscribe: ")[-1] for reader in readers[:4]}
    assert len(unsubscribe_links) == 4  # each subscriber's own link


def test_dates_and_footer_follow_the_subscribers_language(edition_with_blocks):
    occasion = edition_with_blocks and factories.event(title="Later", days_ahead=40).occasions.get()
    starts = timezone.localtime(occasion.day_parts.get().starts_at)
    with translation.override("da"):
        # Danish writes a period after the day (issue 11): "fredag den 8. januar 2027".
        danish_date = formats.date_format(starts, r"l \d\e\n j. F Y")
    with translation.override("en"):
        english_date = formats.date_format(starts, "l j F Y")
    assert danish_date != english_date
    _subject, danish_text, _html = rendering.render_edition(
        edition_with_blocks, make_subscriber("d@example.dk", language="da")
    )
    _subject, english_text, _html = rendering.render_edition(
        edition_with_blocks, make_subscriber("e@example.org")
    )
    assert danish_date in danish_text and english_date in english_text


# ---------------------------------------------------------------------------------------------
# The public archive


def _sent_edition(subject: str, days_ago: int) -> Edition:
    return make_edition(subject=subject, status=SENT, sent_at=timezone.now() - dt.timedelta(days=days_ago))


def test_the_archive_lists_sent_editions_newest_first(client, db):
    _sent_edition("Old news", 30)
    _sent_edition("New news", 1)
    make_edition(subject="A draft")
    make_edition(subject="Scheduled", status=SCHEDULED, scheduled_at=timezone.now())
    make_edition(subject="Going out", status=SENDING)
    page = client.get(reverse("newsletters:archive"))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("New news") < text.index("Old news")
    for hidden in ("A draft", "Scheduled", "Going out"):
        assert hidden not in text


def test_the_archive_is_paginated(client, db):
    for number in range(25):
        _sent_edition(f"Edition number {number:02d}", number + 1)
    first = client.get(reverse("newsletters:archive")).content.decode()
    second = client.get(reverse("newsletters:archive") + "?page=2").content.decode()
    assert "Edition number 00" in first and "Edition number 24" not in first
    assert "Edition number 24" in second and "Edition number 00" not in second


def test_the_web_version_shows_a_sent_edition_without_personal_links(client, edition_with_blocks):
    Edition.objects.filter(pk=edition_with_blocks.pk).update(
        status=SENT, started_at=timezone.now(), sent_at=timezone.now()
    )
    page = client.get(reverse("newsletters:edition", args=[edition_with_blocks.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "<strong>cycling</strong>" in text and "Charging meeting" in text and "Charging handbook" in text
    assert "/newsletter/unsubscribe/" not in text and "/newsletter/preferences/" not in text


@pytest.mark.parametrize("status", [DRAFT, SCHEDULED, SENDING])
def test_the_web_version_of_an_edition_not_sent_is_not_found(client, db, status):
    edition = make_edition(status=status)
    assert client.get(reverse("newsletters:edition", args=[edition.pk])).status_code == 404


# ---------------------------------------------------------------------------------------------
# The organizers' admin


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def _admin_url(name: str, edition: Edition) -> str:
    return reverse(f"admin:newsletters_edition_{name}", args=[edition.pk])


def test_previews_render_for_a_subscriber_who_does_not_exist(organizer_client, db):
    edition = make_edition()
    html = organizer_client.get(_admin_url("preview_html", edition))
    assert html.status_code == 200 and "<strong>cycling</strong>" in html.content.decode()
    assert "'unsafe-inline'" in html.headers["Content-Security-Policy"]  # the email's inline styles
    text = organizer_client.get(_admin_url("preview_text", edition))
    assert text.status_code == 200 and text.headers["Content-Type"].startswith("text/plain")
    assert "The **cycling** season opens." in text.content.decode()
    assert Subscriber.objects.count() == 0
    change = organizer_client.get(_admin_url("change", edition))
    assert "'unsafe-inline'" not in change.headers["Content-Security-Policy"]
    assert "viewsitelink" not in change.content.decode()  # no web version before it is sent


def test_a_test_goes_to_the_organizer_only(organizer_client, organizer, db):
    make_subscriber("reader@example.org")
    edition = make_edition()
    assert organizer_client.get(_admin_url("send_test", edition)).status_code == 200
    response = organizer_client.post(_admin_url("send_test", edition))
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [organizer.email] and message.subject.startswith("[TEST]")
    assert Delivery.objects.count() == 0
    assert LogEntry.objects.filter(object_id=str(edition.pk), change_message__contains="test").exists()


def test_schedule_from_the_admin(organizer_client, db):
    edition = make_edition()
    page = organizer_client.get(_admin_url("schedule", edition))
    assert page.status_code == 200 and 'type="datetime-local"' in page.content.decode()
    past = organizer_client.post(_admin_url("schedule", edition), {"at": "2020-01-01T10:00"})
    assert past.status_code == 200 and "Choose a time in the future." in past.content.decode()
    at = timezone.localtime() + dt.timedelta(days=2)
    response = organizer_client.post(_admin_url("schedule", edition), {"at": at.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    edition.refresh_from_db()
    assert edition.status == SCHEDULED and timezone.localtime(edition.scheduled_at).date() == at.date()
    assert LogEntry.objects.filter(object_id=str(edition.pk), change_message__startswith="Scheduled").exists()

    assert organizer_client.post(_admin_url("cancel_schedule", edition)).status_code == 302
    edition.refresh_from_db()
    assert edition.status == DRAFT


def test_send_now_confirms_the_audience_and_sends_once(organizer_client, db):
    for number in range(3):
        make_subscriber(f"reader{number}@example.org")
    make_subscriber("left@example.org", status=UNSUBSCRIBED)
    edition = make_edition()
    confirm = organizer_client.get(_admin_url("send_now", edition))
    assert confirm.status_code == 200 and "goes to 3 subscribers now" in confirm.content.decode()
    assert mail.outbox == []

    response = organizer_client.post(_admin_url("send_now", edition))
    assert response.status_code == 302
    again = organizer_client.post(_admin_url("send_now", edition), follow=True)
    assert "has been sent already" in again.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == [f"reader{n}@example.org" for n in range(3)]
    edition.refresh_from_db()
    assert edition.status == SENT
    assert LogEntry.objects.filter(object_id=str(edition.pk), change_message="Sending started.").count() == 1

    change = organizer_client.get(_admin_url("change", edition)).content.decode()
    assert "progress-counts" in change and "<td>3</td>" in change
    assert _admin_url("send_now", edition) not in change
    assert f'href="{edition.get_absolute_url()}"' in change  # the web version, now public


def test_an_edition_that_is_not_a_draft_cannot_be_edited(organizer_client, db):
    edition = make_edition()
    delivery.schedule(edition, timezone.now() + dt.timedelta(days=1), by=None)
    response = organizer_client.post(
        _admin_url("change", edition),
        {"subject": "Changed", "body": "Changed", "include_upcoming_events": "on"},
    )
    assert response.status_code == 403
    edition.refresh_from_db()
    assert edition.subject == "Spring on two wheels"


def test_the_list_shows_progress_in_a_fixed_number_of_queries(organizer_client, db):
    for number in range(3):
        make_subscriber(f"reader{number}@example.org")

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert organizer_client.get(reverse("admin:newsletters_edition_changelist")).status_code == 200
        return len(queries.captured_queries)

    start_sending(make_edition(subject="First"))
    few = queries_for_list()
    for number in range(4):
        start_sending(make_edition(subject=f"More {number}"))
    assert queries_for_list() == few


@pytest.mark.parametrize(
    "name", ["preview_html", "preview_text", "send_test", "schedule", "send_now", "cancel_schedule"]
)
def test_edition_pages_are_for_staff_only(client, member, db, name):
    edition = make_edition()
    client.force_login(member)
    for method in (client.get, client.post):
        response = method(_admin_url(name, edition))
        assert response.status_code == 302 and "/admin/login/" in response.url
    assert mail.outbox == [] and Edition.objects.get().status == DRAFT


def test_links_in_an_edition_open_in_the_subscribers_language(edition_with_blocks, settings):
    # Issue 11, defect 6: the archive page and the events it links to speak the email's language.
    settings.SITE_URL = "https://portal.example.org"
    _subject, text, html = rendering.render_edition(
        edition_with_blocks, make_subscriber("svensk@example.se", language="sv")
    )
    web = f"https://portal.example.org/newsletter/archive/{edition_with_blocks.pk}/?lang=sv"
    event_link = "https://portal.example.org/events/charging-meeting/?lang=sv"
    assert web in text and web in html
    assert event_link in text and event_link in html

"""Subscriber lists: import and export, housekeeping of unconfirmed sign-ups, and the organizers'
admin for subscribers and consent records."""

import datetime as dt
import io

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from newsletters.models import Consent, Subscriber
from newsletters.services import imports, subscriptions
from tests.newsletters.subscribing import active_subscriber, sign_up

Status = Subscriber.Status
Action = Consent.Action


# ---------------------------------------------------------------------------------------------
# Import and export


def _csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def test_an_import_with_bad_rows_imports_nothing_and_reports_the_rows(charging):
    result = imports.import_subscribers(
        _csv(
            "email,language,topics\n"
            "good@example.org,da,charging\n"
            "not an address,en,\n"
            "other@example.org,fr,\n"
            "third@example.org,sv,charging;nope\n"
            "Good@Example.org,en,\n"
        ),
        source="Network day 2026",
        consent_text="Sign-up sheet",
    )
    assert not result.ok
    assert result.created == 0
    assert [error.row for error in result.errors] == [3, 4, 5, 6]
    assert "nope" in result.errors[2].message
    assert "row 2" in result.errors[3].message
    assert not Subscriber.objects.exists()
    assert not Consent.objects.exists()


def test_an_import_needs_the_header(db):
    result = imports.import_subscribers(_csv("mail,lang\nx@example.org,en\n"), source="List", consent_text="")
    assert [error.row for error in result.errors] == [1]
    assert not Subscriber.objects.exists()


def test_a_good_import_creates_active_subscribers_with_consent_and_skips_known_addresses(
    hooks, charging, cycling
):
    left = active_subscriber(hooks, "left@example.org")
    subscriptions.unsubscribe(left, source="test")
    reader = active_subscriber(hooks, "reader@example.org", topics=[cycling])
    result = imports.import_subscribers(
        _csv(
            "\ufeffEmail,Language,Topics\n"
            "new@example.org,da,charging;cycling\n"
            "all@example.org,sv,\n"
            "LEFT@example.org,en,\n"
            "reader@example.org,en,charging\n"
        ),
        source="Network day 2026",
        consent_text="I want the newsletter.",
    )
    assert result.ok
    assert result.created == 2
    assert [(row.row, row.email) for row in result.skipped] == [
        (4, "left@example.org"),
        (5, "reader@example.org"),
    ]

    new = Subscriber.objects.get(email="new@example.org")
    assert (new.status, new.language, new.all_topics) == (Status.ACTIVE, "da", False)
    assert set(new.topics.all()) == {charging, cycling}
    assert new.confirmed_at is not None
    consent = new.consents.get()
    assert (consent.action, consent.source, consent.text) == (
        Action.IMPORTED,
        "Network day 2026",
        "I want the newsletter.",
    )
    assert Subscriber.objects.get(email="all@example.org").all_topics

    left.refresh_from_db()
    assert left.status == Status.UNSUBSCRIBED
    assert not left.consents.filter(action=Action.IMPORTED).exists()
    reader.refresh_from_db()
    assert list(reader.topics.all()) == [cycling]
    assert reader.language == "en"


def test_export_has_a_row_per_subscriber(hooks, charging):
    active_subscriber(hooks, "b@example.org", topics=[charging], event_alerts=True)
    sign_up(hooks, "a@example.org")
    rows = list(imports.export_rows())
    assert [row[:5] for row in rows] == [
        ["a@example.org", "pending", "en", "", "no"],
        ["b@example.org", "active", "en", "charging", "yes"],
    ]
    assert rows[0][6] == ""
    assert rows[1][6]


def test_the_import_command_reports_rows(tmp_path, charging):
    path = tmp_path / "list.csv"
    path.write_text("email,language,topics\nfirst@example.org,en,charging\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_subscribers", str(path), "--source", "Old list", stdout=out)
    assert "Imported 1" in out.getvalue()
    assert Subscriber.objects.get().status == Status.ACTIVE


# ---------------------------------------------------------------------------------------------
# Housekeeping


def test_stale_pending_sign_ups_are_removed_and_the_rest_kept(hooks, settings):
    settings.NEWSLETTER_PENDING_DAYS = 14
    long_ago = timezone.now() - dt.timedelta(days=20)
    stale = sign_up(hooks, "stale@example.org")
    fresh = sign_up(hooks, "fresh@example.org")
    confirmed = active_subscriber(hooks, "confirmed@example.org")
    asked_again = active_subscriber(hooks, "again@example.org")
    subscriptions.unsubscribe(asked_again, source="test")
    Subscriber.objects.filter(pk__in=[stale.pk, confirmed.pk, asked_again.pk]).update(created_at=long_ago)
    Consent.objects.filter(subscriber__in=[stale, confirmed]).update(at=long_ago)
    # Asked again today: the address stays unsubscribed until its owner confirms (issue 8).
    sign_up(hooks, "again@example.org")

    assert subscriptions.remove_stale_pending() == 1
    assert set(Subscriber.objects.values_list("email", flat=True)) == {
        "fresh@example.org",
        "confirmed@example.org",
        "again@example.org",
    }
    assert not Consent.objects.filter(subscriber_id=stale.pk).exists()
    # An address with an unsubscribe on its record is never cleaned up (issue 8).
    assert subscriptions.remove_stale_pending(dt.timedelta(0)) == 1
    assert set(Subscriber.objects.all()) == {confirmed, asked_again}
    assert fresh.email != confirmed.email


# ---------------------------------------------------------------------------------------------
# Admin


def test_organizer_sees_subscribers_with_read_only_status_and_consent(client, hooks, organizer, charging):
    subscriber = active_subscriber(hooks, topics=[charging])
    client.force_login(organizer)
    changelist = client.get(reverse("admin:newsletters_subscriber_changelist"))
    assert changelist.status_code == 200
    assert subscriber.email in changelist.content.decode()
    assert reverse("admin:newsletters_subscriber_import") in changelist.content.decode()

    change_url = reverse("admin:newsletters_subscriber_change", args=[subscriber.pk])
    page = client.get(change_url).content.decode()
    assert 'name="status"' not in page
    assert "Confirmed the subscription" in page
    assert client.get(reverse("admin:newsletters_subscriber_add")).status_code == 403

    # A forged status in the POST is ignored; preferences go through the service.
    response = client.post(
        change_url,
        {
            "status": "pending",
            "language": "sv",
            "all_topics": "",
            "topics": [charging.pk],
            "event_alerts": "on",
            "consents-TOTAL_FORMS": "0",
            "consents-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    subscriber.refresh_from_db()
    assert subscriber.status == Status.ACTIVE
    assert subscriber.language == "sv"
    assert subscriber.consents.get(action=Action.PREFERENCES).source == f"admin: {organizer.email}"


def test_organizer_exports_and_unsubscribes_selected(client, hooks, organizer):
    one = active_subscriber(hooks, "one@example.org")
    two = active_subscriber(hooks, "two@example.org")
    client.force_login(organizer)
    url = reverse("admin:newsletters_subscriber_changelist")
    export = client.post(url, {"action": "export_selected_csv", "_selected_action": [one.pk, two.pk]})
    assert export["Content-Type"].startswith("text/csv")
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(imports.EXPORT_COLUMNS)
    assert [line.split(",")[0] for line in lines[1:]] == ["one@example.org", "two@example.org"]

    client.post(url, {"action": "unsubscribe_selected", "_selected_action": [one.pk]})
    one.refresh_from_db()
    assert one.status == Status.UNSUBSCRIBED
    assert one.consents.get(action=Action.UNSUBSCRIBED).source == f"admin: {organizer.email}"


def test_organizer_imports_a_list_in_admin_and_bad_rows_import_nothing(client, organizer, charging):
    client.force_login(organizer)
    url = reverse("admin:newsletters_subscriber_import")
    assert client.get(url).status_code == 200

    bad = io.BytesIO(b"email,language,topics\nfine@example.org,en,\nbroken,en,\n")
    bad.name = "bad.csv"
    response = client.post(url, {"file": bad, "source": "Network day", "consent_text": "Yes"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "<td>3</td>" in page
    assert not Subscriber.objects.exists()

    good = io.BytesIO(b"email,language,topics\nfine@example.org,en,charging\n")
    good.name = "good.csv"
    response = client.post(url, {"file": good, "source": "Network day", "consent_text": "Yes"})
    assert response.status_code == 302
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Status.ACTIVE
    assert subscriber.consents.get().source == "Network day"


def test_import_needs_a_source(client, organizer):
    client.force_login(organizer)
    upload = io.BytesIO(b"email,language,topics\nfine@example.org,en,\n")
    upload.name = "list.csv"
    response = client.post(reverse("admin:newsletters_subscriber_import"), {"file": upload, "source": ""})
    assert response.status_code == 200
    assert not Subscriber.objects.exists()


def test_consent_records_cannot_be_written_by_hand_but_go_with_an_erased_subscriber(
    client, hooks, organizer, superuser
):
    subscriber = active_subscriber(hooks)
    client.force_login(organizer)
    assert client.get(reverse("admin:newsletters_consent_add")).status_code == 403
    consent = subscriber.consents.first()
    page = client.get(reverse("admin:newsletters_consent_change", args=[consent.pk])).content.decode()
    assert 'name="source"' not in page

    client.force_login(superuser)
    delete_url = reverse("admin:newsletters_subscriber_delete", args=[subscriber.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Subscriber.objects.exists()
    assert not Consent.objects.exists()


def test_a_non_staff_member_cannot_reach_the_import(client, member):
    client.force_login(member)
    response = client.get(reverse("admin:newsletters_subscriber_import"))
    assert response.status_code == 302

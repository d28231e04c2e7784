"""Newsletter subscribers and the GDPR: erasing a subscriber keeps sent counts and suppresses the
address (across secret-key rotations), a suppressed address comes back only through double opt-in,
and a member's download and account erasure include the subscription."""

import datetime as dt
import json
import re
from unittest import mock

from allauth.account.models import EmailAddress
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.urls import reverse

from mail.models import OutgoingMessage
from members import privacy
from newsletters import delivery
from newsletters import suppression as newsletter_suppression
from newsletters.models import Consent, Delivery, Edition, Subscriber, Suppression
from newsletters.services import erasure, subscriptions
from tests.newsletters.trusting import (
    confirmed_subscriber,
    import_csv,
    send_edition_to_everyone,
    sign_up_data,
    unsubscribed_subscriber,
)

Status = Subscriber.Status

SUBSCRIBE_URL = "/newsletter/"
CONFIRM_LINK = re.compile(r"https?://[^/\s\"]+(/newsletter/confirm/[^/\s\"]+/)")


# ---------------------------------------------------------------------------------------------
# GDPR: erasure and suppression


def test_erasing_a_subscriber_removes_the_person_keeps_sent_counts_and_suppresses_the_address(
    hooks, charging
):
    subscriber = confirmed_subscriber(hooks, "reader@example.org")
    confirmed_subscriber(hooks, "other@example.org")
    edition = send_edition_to_everyone()
    assert edition.delivery_counts()["sent"] == 2
    assert OutgoingMessage.objects.filter(recipient="reader@example.org").exists()

    assert erasure.erase_subscriber("  Reader@Example.org ") is True

    assert not Subscriber.objects.filter(email="reader@example.org").exists()
    assert not Consent.objects.filter(subscriber_id=subscriber.pk).exists()
    assert not OutgoingMessage.objects.filter(recipient="reader@example.org").exists()
    # The edition's statistics still count the message that went out, naming nobody.
    assert edition.delivery_counts()["sent"] == 2
    assert edition.deliveries.filter(subscriber__isnull=True).count() == 1
    suppression = Suppression.objects.get()
    assert "reader" not in suppression.email_hash
    assert newsletter_suppression.is_suppressed("READER@example.org")
    assert not newsletter_suppression.is_suppressed("other@example.org")

    # An old list cannot bring the address back; the rest of the list is imported.
    result = import_csv("email,language,topics\nreader@example.org,en,\nthird@example.org,en,\n")
    assert result.created == 1
    assert [(row.email, row.reason) for row in result.skipped] == [
        ("reader@example.org", "erased at the person's request; only they can subscribe again")
    ]
    assert not Subscriber.objects.filter(email="reader@example.org").exists()
    # Erasing twice changes nothing.
    assert erasure.erase_subscriber("reader@example.org") is False
    assert Suppression.objects.count() == 1


def test_an_erased_subscribers_pending_delivery_is_skipped_not_sent(hooks):
    confirmed_subscriber(hooks, "reader@example.org")
    edition = Edition.objects.create(subject="News", body="Hello.", include_upcoming_events=False)
    delivery.send_now(edition, by=None)
    with mock.patch.object(delivery, "publish_batch", return_value=True):
        delivery.start_due_editions()
    erasure.erase_subscriber("reader@example.org")
    mail.outbox.clear()
    delivery.send_batch(edition.pk, 100)
    edition.refresh_from_db()
    assert not mail.outbox
    assert edition.status == Edition.Status.SENT
    assert edition.delivery_counts()["skipped"] == 1
    assert not Delivery.objects.filter(error__icontains="reader").exists()


def test_the_suppression_keeps_working_after_a_secret_key_rotation(hooks, settings):
    confirmed_subscriber(hooks)
    erasure.erase_subscriber("reader@example.org")
    settings.SECRET_KEY = "another-" + settings.SECRET_KEY
    assert newsletter_suppression.is_suppressed("reader@example.org")


def test_a_dedicated_suppression_key_can_be_set_later_and_rotated_with_fallbacks(hooks, settings):
    settings.NEWSLETTER_SUPPRESSION_KEY = ""
    erasure.erase_subscriber(confirmed_subscriber(hooks, "early@example.org").email)
    settings.NEWSLETTER_SUPPRESSION_KEY = "first-dedicated-key-0123456789"
    erasure.erase_subscriber(confirmed_subscriber(hooks, "later@example.org").email)
    assert newsletter_suppression.is_suppressed("early@example.org") and newsletter_suppression.is_suppressed(
        "later@example.org"
    )
    hashes = set(Suppression.objects.values_list("email_hash", flat=True))
    assert newsletter_suppression.suppression_hash("later@example.org") in hashes

    settings.NEWSLETTER_SUPPRESSION_KEY = "second-dedicated-key-9876543210"
    assert not newsletter_suppression.is_suppressed("later@example.org")
    settings.NEWSLETTER_SUPPRESSION_KEY_FALLBACKS = ["first-dedicated-key-0123456789"]
    assert newsletter_suppression.is_suppressed("later@example.org") and newsletter_suppression.is_suppressed(
        "early@example.org"
    )


def test_a_suppressed_address_comes_back_only_through_double_opt_in(client, hooks):
    confirmed_subscriber(hooks)
    erasure.erase_subscriber("reader@example.org")
    mail.outbox.clear()

    client.post(SUBSCRIBE_URL, sign_up_data("reader@example.org"))
    subscriber = Subscriber.objects.get(email="reader@example.org")
    assert subscriber.status == Status.PENDING
    assert newsletter_suppression.is_suppressed("reader@example.org")
    # Still pending: an import leaves it alone, and the cleanup removes only the new row.
    assert import_csv("email,language,topics\nreader@example.org,en,\n").created == 0
    assert subscriptions.remove_stale_pending(dt.timedelta(0)) == 1
    assert newsletter_suppression.is_suppressed("reader@example.org")
    assert import_csv("email,language,topics\nreader@example.org,en,\n").created == 0

    client.post(SUBSCRIBE_URL, sign_up_data("reader@example.org"))
    client.post(CONFIRM_LINK.search(mail.outbox[-1].body).group(1))
    assert Subscriber.objects.get(email="reader@example.org").status == Status.ACTIVE
    assert not newsletter_suppression.is_suppressed("reader@example.org")


def test_a_member_with_a_verified_address_may_subscribe_again_after_an_erasure(client, hooks, member):
    confirmed_subscriber(hooks, member.email)
    erasure.erase_subscriber(member.email)
    client.force_login(member)
    client.post(reverse("newsletters:subscribe_member"))
    assert Subscriber.objects.get(email=member.email).status == Status.ACTIVE
    assert not newsletter_suppression.is_suppressed(member.email)


def test_an_organizer_deleting_a_subscriber_in_admin_erases_it_with_a_suppression(client, hooks, organizer):
    one = unsubscribed_subscriber(hooks, "one@example.org")
    two = confirmed_subscriber(hooks, "two@example.org")
    three = confirmed_subscriber(hooks, "three@example.org")
    client.force_login(organizer)
    delete_url = reverse("admin:newsletters_subscriber_delete", args=[one.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    changelist = reverse("admin:newsletters_subscriber_changelist")
    response = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [two.pk, three.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    assert not Consent.objects.exists()
    # The admin's history keeps that something was erased, not whose address it was.
    history = list(LogEntry.objects.values_list("object_repr", flat=True))
    assert len(history) == 3
    assert not [entry for entry in history if "@" in entry]
    assert all(
        newsletter_suppression.is_suppressed(email)
        for email in ("one@example.org", "two@example.org", "three@example.org")
    )
    result = import_csv("email,language,topics\none@example.org,en,\ntwo@example.org,en,\n")
    assert result.created == 0 and len(result.skipped) == 2
    assert client.get(reverse("admin:newsletters_subscriber_add")).status_code == 403


def test_the_newsletter_part_of_a_members_download_has_the_subscription_and_its_consents(
    hooks, member, charging
):
    subscriber = subscriptions.subscribe_member(member, consent_text="Yes please.")
    subscriptions.update_preferences(
        subscriber, topics=[charging], all_topics=False, language="da", event_alerts=True, source="test"
    )
    holder = next(holder for holder in privacy.holders() if holder.name == "newsletter")
    assert holder.order == 200
    data = json.loads(json.dumps(holder.export(member)))
    assert len(data) == 1
    exported = data[0]
    assert exported["email"] == member.email
    assert (exported["status"], exported["language"], exported["event_alerts"]) == ("active", "da", True)
    assert exported["topics"] == ["charging"]
    assert exported["all_topics"] is False
    assert exported["confirmed_at"] and exported["created_at"] and exported["unsubscribed_at"] is None
    assert [(record["action"], record["source"]) for record in exported["consents"]] == [
        ("subscribed", "profile"),
        ("preferences", "test"),
    ]
    assert exported["consents"][0]["text"] == "Yes please."
    assert exported["consents"][0]["at"]


def test_a_member_without_a_subscription_downloads_an_empty_newsletter_part(member):
    holder = next(holder for holder in privacy.holders() if holder.name == "newsletter")
    assert holder.export(member) == []


def test_erasing_a_members_account_erases_the_subscription_and_suppresses_the_address(hooks, member):
    subscriptions.subscribe_member(member, consent_text="Yes.")
    holder = next(holder for holder in privacy.holders() if holder.name == "newsletter")
    holder.erase(member)
    assert not Subscriber.objects.exists()
    assert not Consent.objects.exists()
    assert newsletter_suppression.is_suppressed(member.email)


def test_an_unverified_account_neither_downloads_nor_erases_someone_elses_subscription(hooks, member):
    # Anyone can type any address into a sign-up; until it is verified it is not theirs.
    subscriber = confirmed_subscriber(hooks, member.email)
    EmailAddress.objects.filter(user=member).update(verified=False)
    holder = next(holder for holder in privacy.holders() if holder.name == "newsletter")
    assert holder.export(member) == []
    holder.erase(member)
    assert Subscriber.objects.get(pk=subscriber.pk).status == Status.ACTIVE
    assert not newsletter_suppression.is_suppressed(member.email)

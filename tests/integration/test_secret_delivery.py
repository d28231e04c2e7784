"""A sign-in code through a real Celery worker: the web process encrypts it, the worker (another
process with the same SECRET_KEY) decrypts it for the SMTP server alone, and the row keeps none."""

import email
import re

import pytest
from django.test import Client
from django.urls import reverse

from mail.models import OutgoingMessage
from tests.integration.conftest import publishing_to, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_organizations")]


def test_a_sign_in_code_arrives_through_the_worker_and_leaves_no_trace(
    member, smtp_server, redis_db, start_worker, settings
):
    controller, handler = smtp_server
    with publishing_to(redis_db, settings):
        start_worker(redis_db, controller.port)
        Client().post(reverse("account_request_login_code"), {"email": member.email})
        wait_for(lambda: len(handler.messages) == 1, what="the sign-in code at the SMTP server")
    received = email.message_from_bytes(handler.messages[0])
    text = next(part for part in received.walk() if part.get_content_type() == "text/plain")
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", text.get_payload(decode=True).decode()).group(1)
    record = OutgoingMessage.objects.get(recipient=member.email, kind="login_code")
    wait_for(lambda: OutgoingMessage.objects.get(pk=record.pk).body_removed_at, what="the body removed")
    stored = OutgoingMessage.objects.filter(pk=record.pk).values().get()
    assert stored["status"] == OutgoingMessage.Status.SENT
    assert code not in str(stored)

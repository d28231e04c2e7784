"""Helpers shared by the organizer-team tests."""

import csv
import io

from django.urls import reverse


def changelist_rows(client, model: str, **query):
    response = client.get(reverse(f"admin:events_{model}_changelist"), query)
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def run_action(client, model: str, action: str, objects, **extra):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}
    return client.post(reverse(f"admin:events_{model}_changelist"), data)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

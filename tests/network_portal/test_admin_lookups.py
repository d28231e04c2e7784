"""Hole 3 of issue 8: a changelist answered any lookup in its query string, so an organizer read a
sign-in code hidden from the change page one character at a time (`?body_text__regex=^a`).
Every admin on the portal's site, third-party ones included, accepts only the lookups its own
filters offer."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from mail import services as outbox
from mail.models import OutgoingMessage
from members.models import Team

CHANGELIST = "admin:outbox_outgoingmessage_changelist"

# The probes of the reproduction: each would narrow the list to the messages whose secret
# starts with a guessed character.
FORBIDDEN_LOOKUPS = [
    ("body_text__regex", "^a"),
    ("body_html__contains", "code"),
    ("subject__regex", "^S"),
    ("recipient__regex", "^root"),
]


@pytest.fixture
def outbox_organizer(organizer):
    """An organizer who may read the outbox, in the team whose event the message is about."""
    organizer.user_permissions.add(
        Permission.objects.get(content_type__app_label="outbox", codename="view_outgoingmessage")
    )
    team = Team.objects.create(name="KL")
    team.members.add(organizer)
    return organizer


def _message(key, *, team=None, sensitive=False, text="Plain", **fields):
    return outbox.enqueue(
        key=key,
        kind=fields.pop("kind", "test"),
        recipient=fields.pop("recipient", "planner@aarhus.dk"),
        subject=fields.pop("subject", "Hello"),
        text=text,
        html=f"<p>{text}</p>",
        team=team,
        sensitive=sensitive,
        **fields,
    )


def _sign_in_code_for(user):
    return _message(
        "account:code",
        kind="login_code",
        recipient=user.email,
        subject="Sign-In Code",
        text="Your sign-in code is ABC123.",
        user=user,
        sensitive=True,
    )


@pytest.mark.parametrize(("lookup", "value"), FORBIDDEN_LOOKUPS)
def test_it_refuses_lookups_on_message_fields_an_organizer_cannot_filter_by(
    client, outbox_organizer, superuser, lookup, value
):
    _sign_in_code_for(superuser)
    _message("event:1", team=Team.objects.get(name="KL"))
    client.force_login(outbox_organizer)
    response = client.get(reverse(CHANGELIST), {lookup: value})
    assert response.status_code == 400
    assert "planner@aarhus.dk" not in response.text  # no list, filtered or not


@pytest.mark.parametrize(("lookup", "value"), FORBIDDEN_LOOKUPS)
def test_it_refuses_lookups_on_message_fields_to_a_superuser_too(client, superuser, lookup, value):
    _sign_in_code_for(superuser)
    client.force_login(superuser)
    assert client.get(reverse(CHANGELIST), {lookup: value}).status_code == 400


def test_it_keeps_the_filters_the_outbox_offers(client, outbox_organizer):
    team = Team.objects.get(name="KL")
    sent = _message("event:sent", team=team, kind="registration_confirmed", recipient="sent@aarhus.dk")
    OutgoingMessage.objects.filter(pk=sent.pk).update(status=OutgoingMessage.Status.SENT)
    _message("event:pending", team=team, kind="event_changed", recipient="pending@aarhus.dk")
    client.force_login(outbox_organizer)
    url = reverse(CHANGELIST)

    by_status = client.get(url, {"status__exact": "sent"})
    by_kind = client.get(url, {"kind__exact": "event_changed"})
    by_year = client.get(url, {"created_at__year": str(sent.created_at.year)})

    assert by_status.status_code == by_kind.status_code == by_year.status_code == 200
    assert "sent@aarhus.dk" in by_status.text and "pending@aarhus.dk" not in by_status.text
    assert "pending@aarhus.dk" in by_kind.text and "sent@aarhus.dk" not in by_kind.text
    assert "sent@aarhus.dk" in by_year.text and "pending@aarhus.dk" in by_year.text


def _registered_admins():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize(
    "model_admin", [ma for _model, ma in _registered_admins()], ids=lambda ma: ma.model._meta.label
)
def test_every_admin_refuses_a_regex_on_text_it_does_not_filter_by(superuser, model_admin):
    request = _request(superuser)
    changelist = model_admin.get_changelist_instance(request)
    filtered = {
        parameter.split("__")[0]
        for spec in changelist.filter_specs
        for parameter in spec.expected_parameters()
    }
    texts = [
        field.name
        for field in model_admin.model._meta.fields
        if isinstance(field, (models.CharField, models.TextField)) and field.name not in filtered
    ]
    assert texts, f"{model_admin.model._meta.label} has no text field to probe"
    for name in texts:
        assert not model_admin.lookup_allowed(f"{name}__regex", "^a", request), name
        assert not model_admin.lookup_allowed(f"{name}__startswith", "a", request), name


@pytest.mark.parametrize(
    "model_admin", [ma for _model, ma in _registered_admins()], ids=lambda ma: ma.model._meta.label
)
def test_every_admin_allows_the_filters_it_declares(superuser, model_admin):
    request = _request(superuser)
    changelist = model_admin.get_changelist_instance(request)
    # Simple filters read their own parameter; Django asks lookup_allowed only for field filters.
    field_filters = [spec for spec in changelist.filter_specs if not isinstance(spec, admin.SimpleListFilter)]
    for spec in field_filters:
        for parameter in spec.expected_parameters():
            assert model_admin.lookup_allowed(parameter, "1", request), parameter
    if model_admin.date_hierarchy:
        for part in ("year", "month", "day"):
            parameter = f"{model_admin.date_hierarchy}__{part}"
            assert model_admin.lookup_allowed(parameter, "1", request), parameter


def test_every_declared_filter_renders_a_changelist(client, superuser):
    """The same through HTTP: each parameter a filter offers is answered with a page, not 400."""
    client.force_login(superuser)
    request = _request(superuser)
    for model, model_admin in _registered_admins():
        changelist = model_admin.get_changelist_instance(request)
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for spec in changelist.filter_specs:
            for choice in spec.choices(changelist):
                query = choice["query_string"]
                assert client.get(url + query).status_code == 200, (model._meta.label, query)

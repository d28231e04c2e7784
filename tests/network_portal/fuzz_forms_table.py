"""The forms the fuzz test posts (tests/network_portal/test_fuzz_forms.py): for each, who posts it,
where, from which valid baseline, and what a browser would post from its page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from newsletters import tokens
from tests.conftest import PASSWORD
from tests.fuzz_strategies import DROP
from tests.portal_world import World

# --- what a form's page would post ----------------------------------------------------------------


def form_data(form: forms.BaseForm) -> dict:
    """The POST data a browser sends for `form` as rendered (its current values)."""
    data: dict = {}
    for bound in form:
        if bound.field.disabled:
            continue
        widget = bound.field.widget
        widget = widget.widget if isinstance(widget, RelatedFieldWidgetWrapper) else widget
        value = bound.value()
        name = bound.html_name
        if isinstance(widget, forms.MultiWidget):
            parts = value if isinstance(value, list | tuple) else widget.decompress(value)
            for suffix, part_widget, part in zip(widget.widgets_names, widget.widgets, parts, strict=False):
                formatted = part_widget.format_value(part)
                data[name + suffix] = "" if formatted is None else str(formatted)
        elif isinstance(widget, forms.CheckboxInput):
            if widget.check_test(value):
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        elif value is None:
            data[name] = ""
        else:
            formatted = widget.format_value(value)
            if isinstance(formatted, list):  # a select: its chosen options
                formatted = formatted[0] if formatted else ""
            data[name] = "" if formatted is None else str(formatted)
    return data


def admin_change_form(client: Client, url: str) -> dict:
    """The POST data of an admin change form with its inlines, as the page renders them."""
    response = client.get(url)
    assert response.status_code == 200, url
    data = form_data(response.context["adminform"].form)
    formsets = [inline.formset for inline in response.context["inline_admin_formsets"]]
    while formsets:
        formset = formsets.pop(0)
        data.update(form_data(formset.management_form))
        for form in formset.forms:
            data.update(form_data(form))
            # The day parts nested in an occasion row of the event page (django-nested-admin).
            formsets += getattr(form, "nested_formsets", [])
    return data


# --- the forms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormSpec:
    name: str
    role: str  # who posts, as in portal_world.ROLES
    url: Callable[[World], str]
    baseline: Callable[[World, Client], dict]
    method: str = "post"
    extra_keys: tuple[str, ...] = ()
    # Other valid values to mix in, so that a nasty value meets valid neighbours.
    good: Callable[[World], dict] = lambda world: {}
    # The whole request must be refused whatever is posted (another's registration, a
    # superuser's account, another team's event).
    always_refused: bool = False
    upload: bool = False  # the subscriber import: a generated CSV file in `file`
    # Requests that broke the portal before (issue 8, hole 7, and what this test found), sent
    # on every run whatever Hypothesis generates: changes to the baseline.
    known: tuple[Callable[[World], dict], ...] = ()


def _registration_url(name: str) -> Callable[[World], str]:
    return lambda world: reverse(name, args=[world.registration.pk])


def _admin_change(app_model: str, target: Callable[[World], object]) -> Callable[[World], str]:
    app, model = app_model.split(".")
    return lambda world: reverse(f"admin:{app}_{model}_change", args=[target(world).pk])


def _changelist(app_model: str) -> Callable[[World], str]:
    app, model = app_model.split(".")
    return lambda world: reverse(f"admin:{app}_{model}_changelist")


def _event_message(target: Callable[[World], object]) -> Callable[[World], str]:
    return lambda world: reverse("admin:events_event_message", args=[target(world).pk])


def csv_upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("list.csv", content, content_type="text/csv")


SPECS = [
    # --- public forms ---
    FormSpec(
        "sign-up",
        "anonymous",
        lambda w: reverse("account_signup"),
        lambda w, c: {"email": "new.person@aarhus.dk", "password1": PASSWORD, "password2": PASSWORD},
    ),
    FormSpec(
        "login",
        "anonymous",
        lambda w: reverse("account_login"),
        lambda w, c: {"login": w.member.email, "password": PASSWORD, "remember": "on"},
    ),
    FormSpec(
        "password reset",
        "anonymous",
        lambda w: reverse("account_reset_password"),
        lambda w, c: {"email": w.member.email},
    ),
    FormSpec(
        "code login",
        "anonymous",
        lambda w: reverse("account_request_login_code"),
        lambda w, c: {"email": w.member.email},
    ),
    FormSpec(
        "newsletter sign-up",
        "anonymous",
        lambda w: reverse("newsletters:subscribe"),
        lambda w, c: {
            "email": "reader@example.org",
            "language": "en",
            "all_topics": "True",
            "event_alerts": "on",
            "consent": "on",
        },
        extra_keys=("topics", "website"),
        good=lambda w: {"all_topics": "False", "topics": [w.event_a.main_theme.slug], "language": "sv"},
    ),
    FormSpec(
        "event list filters",
        "anonymous",
        lambda w: reverse("events:list"),
        lambda w, c: {
            "when": "past",
            "format": "online",
            "month": "2026-11",
            "theme": w.event_a.main_theme.slug,
            "series": w.series_a.slug,
        },
        method="get",
        known=(lambda w: {"month": "%00"}, lambda w: {"theme": "%ED%A0%80", "series": "%00"}),
    ),
    FormSpec(
        "register",
        "member",
        lambda w: reverse("events:register", args=[w.event_open.slug]),
        lambda w, c: {
            "occasion": str(w.event_open.occasions.get().pk),
            "diet": "Vegetarian",
            "accessibility": "",
            "listed": "on",
        },
        good=lambda w: {"occasion": str(w.occasion_a2.pk)},
        known=(lambda w: {"diet": "\u202eevil\u202c", "accessibility": "\u200b"},),
    ),
    FormSpec("cancel", "member", _registration_url("events:cancel"), lambda w, c: {}, extra_keys=("pk",)),
    FormSpec(
        "cancel a colleague's registration",
        "colleague",
        _registration_url("events:cancel"),
        lambda w, c: {},
        extra_keys=("pk", "user"),
        always_refused=True,
    ),
    FormSpec(
        "move",
        "member",
        _registration_url("events:move"),
        lambda w, c: {"occasion": str(w.occasion_a2.pk)},
        good=lambda w: {"occasion": str(w.occasion_a1.pk)},
    ),
    # --- member forms ---
    FormSpec(
        "profile",
        "member",
        lambda w: reverse("members:edit"),
        lambda w, c: {
            "full_name": "Jens Kristensen",
            "organization": str(w.aarhus.pk),
            "role": "transport_planner",
            "job_title": "Mobility planner",
            "phone": "+45 12 34 56 78",
            "preferred_language": "en",
            "next": "/events/",
        },
        good=lambda w: {"organization": str(w.kl.pk), "role": "other", "next": "https://evil.example/"},
        known=(
            lambda w: {"next": "abc"},  # found by this test: NoReverseMatch
            lambda w: {"full_name": "\u200b"},
            lambda w: {"full_name": "\u202eevil\u202c"},
        ),
    ),
    FormSpec(
        "organization seats",
        "coordinator",
        lambda w: reverse("events:organization_seats", args=[w.event_open.slug]),
        lambda w, c: {
            "member": str(w.users["colleague"].pk),
            "occasion": str(w.event_open.occasions.get().pk),
            "diet": "",
            "accessibility": "",
            "listed": "",
        },
        good=lambda w: {"member": str(w.users["other_member"].pk)},
        known=(
            lambda w: dict.fromkeys(("member", "occasion", "diet", "accessibility", "listed"), DROP),
            lambda w: {"member": "abc"},
        ),
    ),
    FormSpec(
        "newsletter preferences (signed link)",
        "anonymous",
        lambda w: reverse("newsletters:preferences", args=[tokens.make(w.subscriber, tokens.PREFERENCES)]),
        lambda w, c: {"language": "da", "all_topics": "False", "topics": [w.event_a.main_theme.slug]},
        extra_keys=("event_alerts",),
    ),
    # Without the password asked again (or the emailed code), nothing is erased.
    FormSpec(
        "delete account",
        "member",
        lambda w: reverse("members:delete_account"),
        lambda w, c: {"code": "123456"},
        extra_keys=("send_code", "password", "post"),
        always_refused=True,
    ),
    # --- the organizers' admin ---
    FormSpec(
        "user change",
        "organizer_a",
        _admin_change("members.user", lambda w: w.member),
        lambda w, c: admin_change_form(c, _admin_change("members.user", lambda w: w.member)(w)),
        extra_keys=("is_staff", "is_superuser", "groups", "user_permissions"),
        good=lambda w: {"organization": str(w.kl.pk), "is_organization_coordinator": "on"},
        known=(lambda w: {"organization": "abc"},),
    ),
    # Hole 8: an organizer changes no staff or superuser account, whatever is posted.
    FormSpec(
        "user change of a superuser",
        "organizer_a",
        _admin_change("members.user", lambda w: w.superuser),
        lambda w, c: {
            **admin_change_form(c, _admin_change("members.user", lambda w: w.member)(w)),
            "email": "",
        },
        extra_keys=("is_staff", "is_superuser", "password"),
        always_refused=True,
    ),
    FormSpec(
        "event change with inlines",
        "organizer_a",
        _admin_change("events.event", lambda w: w.event_a),
        lambda w, c: admin_change_form(c, _admin_change("events.event", lambda w: w.event_a)(w)),
        extra_keys=("team", "agenda_items-0-speakers", "occasions-1-capacity", "documents-0-file"),
        good=lambda w: {"agenda_items-0-speakers": [str(w.speaker.pk)], "team": str(w.team_b.pk)},
        known=(lambda w: {"agenda_items-0-speakers": "abc"},),
    ),
    FormSpec(
        "event change by another team",
        "organizer_b",
        _admin_change("events.event", lambda w: w.event_a),
        lambda w, c: {"title": "Renamed", "slug": "renamed", "status": "cancelled"},
        always_refused=True,
    ),
    FormSpec(
        "registration change",
        "organizer_a",
        _admin_change("events.registration", lambda w: w.registration),
        lambda w, c: admin_change_form(c, _admin_change("events.registration", lambda w: w.registration)(w)),
        extra_keys=("status", "occasion", "user"),
    ),
    FormSpec(
        "subscriber import",
        "organizer_a",
        lambda w: reverse("admin:newsletters_subscriber_import"),
        lambda w, c: {"source": "Sign-up sheet, network day 2026", "consent_text": "Yes, send it."},
        upload=True,
        known=(lambda w: {"file": csv_upload(b'email,language,topics\n"' + b"x" * 131_073 + b'",en,\n')},),
    ),
    FormSpec(
        "write to participants",
        "organizer_a",
        _event_message(lambda w: w.event_a),
        lambda w, c: {
            "subject": "Bring a bike",
            "body": "See you *there*.",
            "recipients": "both",
            "occasion": "",
            "nonce": "fuzz-nonce",
            "send": "1",
        },
        extra_keys=("preview", "test"),
        good=lambda w: {"occasion": str(w.occasion_a2.pk), "recipients": "waitlisted"},
    ),
    FormSpec(
        "write to another team's participants",
        "organizer_b",
        _event_message(lambda w: w.event_a),
        lambda w, c: {
            "subject": "Hello",
            "body": "Hello",
            "recipients": "both",
            "nonce": "fuzz-nonce",
            "send": "1",
        },
        always_refused=True,
    ),
    FormSpec(
        "move action",
        "organizer_a",
        _changelist("events.registration"),
        lambda w, c: {
            "action": "move_to_occasion",
            "_selected_action": [str(w.registration.pk)],
            "apply": "1",
            "occasion": str(w.occasion_a2.pk),
        },
        extra_keys=("index",),
        good=lambda w: {"_selected_action": [str(w.registration.pk), str(w.registration_b.pk)]},
    ),
]

"""The authorization table of the admin: every model's pages, and changes posted that must be refused.

The table is run by tests/network_portal/test_authorization_matrix.py; MATRIX in
tests/network_portal/authorization_table.py joins the parts."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.contrib.auth.models import Group
from django.urls import reverse

from events.models import Event
from tests.network_portal.authorization_rules import (
    ADMIN_HOME,
    CHANGED,
    DENIED,
    HIDDEN,
    NOBODY,
    NOT_FOUND,
    OK,
    STAFF,
    SUPERUSER_ONLY,
    TEAM_A_ONLY,
    Case,
    everyone,
    staff,
)
from tests.portal_world import (
    World,
)

# --- the admin ------------------------------------------------------------------------------------


def _content_type(model):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(model)


def _site():
    from django.contrib.sites.models import Site

    return Site.objects.get_current()


def _pk(getter: Callable[[World], object]) -> Callable[[World], list]:
    return lambda world: [getter(world).pk]


def model_admin(
    app_model: str,
    target: Callable[[World], object],
    *,
    changelist: Mapping[str, str],
    add: Mapping[str, str],
    change: Mapping[str, str],
    delete: Mapping[str, str],
    history: Mapping[str, str] | None = None,
) -> dict[str, Case]:
    """The five pages Django's admin gives every registered model, and its old-style address of
    an object (a redirect to the change form, which is checked on its own)."""
    app, model = app_model.split(".")
    name = f"admin:{app}_{model}"
    args = _pk(target)
    return {
        f"{name}_changelist": Case(changelist),
        f"{name}_add": Case(add),
        f"{name}_change": Case(change, args=args),
        f"{name}_history": Case(history or change, args=args),
        f"{name}_delete": Case(delete, args=args),
        f"admin/{app}/{model}/<path:object_id>/": Case(
            staff(OK), path=lambda world: f"/admin/{app}/{model}/{target(world).pk}/"
        ),
    }


ADMIN_PAGES: dict[str, Case | tuple[Case, ...]] = {
    "admin:index": Case(staff(OK)),
    # Staff are sent on to the index; the others see the form (and a word that they may not).
    "admin:login": Case({**everyone(OK), **dict.fromkeys(STAFF, ADMIN_HOME)}),
    "admin:logout": Case({**everyone(ADMIN_HOME), **dict.fromkeys(STAFF, OK)}, method="post"),
    "admin:password_change": Case(staff(OK)),
    "admin:password_change_done": Case(staff(OK)),
    "admin:jsi18n": Case(staff(OK)),
    # Choosing an event for an occasion offers only one's own teams' events.
    "admin:autocomplete": Case(
        staff(OK, HIDDEN),
        query="?app_label=events&model_name=occasion&field_name=event&term=Team",
    ),
    "admin:view_on_site": Case(
        staff(OK),
        path=lambda w: reverse("admin:view_on_site", args=[_content_type(Event).pk, w.event_a.pk]),
    ),
    "admin:app_list": (
        Case(staff(OK), path=lambda w: "/admin/events/"),
        Case(SUPERUSER_ONLY, path=lambda w: "/admin/auth/", label="auth"),
    ),
    "admin/(?P<url>.*)$": Case(staff(NOT_FOUND, NOT_FOUND, NOT_FOUND), path=lambda w: "/admin/no-such-page/"),
    # Django's and allauth's own models: for superusers only.
    **model_admin(
        "auth.group",
        lambda w: Group.objects.get(name="Organizers"),
        changelist=SUPERUSER_ONLY,
        add=SUPERUSER_ONLY,
        change=SUPERUSER_ONLY,
        delete=SUPERUSER_ONLY,
    ),
    **model_admin(
        "sites.site",
        lambda w: _site(),
        changelist=SUPERUSER_ONLY,
        add=SUPERUSER_ONLY,
        change=SUPERUSER_ONLY,
        delete=SUPERUSER_ONLY,
    ),
    **model_admin(
        "account.emailaddress",
        lambda w: w.member.emailaddress_set.get(),
        changelist=SUPERUSER_ONLY,
        add=SUPERUSER_ONLY,
        change=SUPERUSER_ONLY,
        delete=SUPERUSER_ONLY,
    ),
    # The outbox: organizers see their teams' messages; nobody writes or deletes one by hand.
    **model_admin(
        "outbox.outgoingmessage",
        lambda w: w.message_a,
        changelist=staff(OK, HIDDEN),
        add=NOBODY,
        change=TEAM_A_ONLY,
        delete=NOBODY,
    ),
    # Members and organizations: organizers verify members of any team's events; only
    # superusers add or delete accounts, set passwords, grant staff status.
    **model_admin(
        "members.organization",
        lambda w: w.aarhus,
        changelist=staff(OK),
        add=staff(OK),
        change=staff(OK),
        delete=SUPERUSER_ONLY,
    ),
    **model_admin(
        "members.user",
        lambda w: w.member,
        changelist=staff(OK),
        add=SUPERUSER_ONLY,
        change=staff(OK),
        # Deleting is erasing (GDPR), which organizers do for a member who asks.
        delete=staff(OK),
    ),
    "admin:auth_user_password_change": Case(SUPERUSER_ONLY, args=lambda w: [w.member.pk]),
    # Only superusers form teams; an organizer may look at their own.
    **model_admin(
        "members.team",
        lambda w: w.team_a,
        changelist=staff(OK, HIDDEN),
        add=SUPERUSER_ONLY,
        change=TEAM_A_ONLY,
        delete=SUPERUSER_ONLY,
    ),
    # Shared by every team: themes, contact people, speakers.
    **model_admin(
        "events.theme",
        lambda w: w.event_a.main_theme,
        changelist=staff(OK),
        add=staff(OK),
        change=staff(OK),
        delete=staff(OK),
    ),
    **model_admin(
        "events.contactperson",
        lambda w: w.contact,
        changelist=staff(OK),
        add=staff(OK),
        change=staff(OK),
        delete=staff(OK),
    ),
    **model_admin(
        "events.speaker",
        lambda w: w.speaker,
        changelist=staff(OK),
        add=staff(OK),
        change=staff(OK),
        delete=staff(OK),
    ),
    # Team A's series, event, occasion and registration: team A's organizers and superusers.
    **model_admin(
        "events.series",
        lambda w: w.series_a,
        changelist=staff(OK, HIDDEN),
        add=staff(OK),
        change=TEAM_A_ONLY,
        delete=TEAM_A_ONLY,
    ),
    **model_admin(
        "events.event",
        lambda w: w.event_a,
        changelist=staff(OK, HIDDEN),
        add=staff(OK),
        change=TEAM_A_ONLY,
        # An event people registered for is cancelled, never deleted.
        delete=NOBODY,
    ),
    "admin:events_event_occupancy": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    # Publishing and cancelling one event: its team's organizers (the service decides the rest).
    "admin:events_event_publish": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    "admin:events_event_cancel": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    "admin:events_event_participants": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    "admin:events_event_message": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    "admin:events_event_dashboard": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    # The copy page's GET shows the form; its POST is below.
    "admin:events_event_copy": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    "admin:events_event_participants_csv": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    "admin:events_event_evaluations": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    "admin:events_event_evaluations_xlsx": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    "admin:events_event_participants_xlsx": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    **model_admin(
        "events.occasion",
        lambda w: w.occasion_a1,
        changelist=staff(OK, HIDDEN),
        add=staff(OK),
        change=TEAM_A_ONLY,
        delete=TEAM_A_ONLY,
    ),
    # The Network page counts each organizer's own teams' events: team B sees its page, empty.
    "admin:events_registration_network": Case(staff(OK, HIDDEN)),
    "admin:events_registration_network_xlsx": Case(staff(OK, HIDDEN)),
    # The attendance list of team A's occasion (its save is below).
    "admin:events_occasion_attendance": Case(TEAM_A_ONLY, args=_pk(lambda w: w.occasion_a1)),
    **model_admin(
        "events.registration",
        lambda w: w.registration,
        changelist=staff(OK, HIDDEN),
        add=NOBODY,
        change=TEAM_A_ONLY,
        delete=NOBODY,
    ),
    # Newsletters are the network's, not a team's.
    **model_admin(
        "newsletters.subscriber",
        lambda w: w.subscriber,
        changelist=staff(OK),
        add=NOBODY,
        change=staff(OK),
        delete=staff(OK),
    ),
    "admin:newsletters_subscriber_import": Case(staff(OK)),
    **model_admin(
        "newsletters.consent",
        lambda w: w.consent,
        changelist=staff(OK),
        add=NOBODY,
        change=staff(OK),
        delete=NOBODY,
    ),
    **model_admin(
        "newsletters.edition",
        lambda w: w.edition,
        changelist=staff(OK),
        add=staff(OK),
        change=staff(OK),
        delete=staff(OK),
    ),
    **{
        f"admin:newsletters_edition_{page}": Case(staff(OK), args=_pk(lambda w: w.edition))
        for page in ("preview_html", "preview_text", "send_test", "schedule", "send_now", "cancel_schedule")
    },
}

# A message to team A's participants, as the message page posts it.
_MESSAGE = {"subject": "Hello", "body": "Bring a bike.", "recipients": "both", "occasion": "", "nonce": "m"}

# Changes posted to change forms that the person may not make: refused, and nothing saved.
ADMIN_POSTS: dict[str, tuple[Case, ...]] = {
    # Hole 8: organizers manage members, never a superuser's account.
    "admin:members_user_change": (
        Case(
            staff(DENIED, DENIED, OK),
            args=lambda w: [w.superuser.pk],
            method="post",
            data=lambda w: {"email": w.superuser.email, "full_name": "Taken over", "is_active": ""},
            label="POST on a superuser",
        ),
    ),
    "admin:events_event_change": (
        Case(
            staff(OK, DENIED),
            args=_pk(lambda w: w.event_a),
            method="post",
            data=lambda w: {"title": "Renamed by team B"},
            label="POST",
        ),
    ),
    # The message page: a preview writes nothing; sending writes to team A's participants.
    "admin:events_event_message": (
        Case(
            staff(OK, DENIED),
            args=_pk(lambda w: w.event_a),
            method="post",
            data=lambda w: {**_MESSAGE, "preview": "1"},
            label="POST preview",
        ),
        Case(
            staff(CHANGED, DENIED, CHANGED),
            args=_pk(lambda w: w.event_a),
            method="post",
            data=lambda w: {**_MESSAGE, "send": "1"},
            label="POST send",
        ),
    ),
    # Copying team A's event as the next meeting writes a draft for team A.
    "admin:events_event_copy": (
        Case(
            staff(CHANGED, DENIED, CHANGED),
            args=_pk(lambda w: w.event_a),
            method="post",
            data=lambda w: {"days": "28"},
            label="POST copy",
        ),
    ),
    "admin:events_event_publish": (
        Case(
            staff(OK, DENIED),
            args=_pk(lambda w: w.event_a),
            method="post",
            data=lambda w: {"confirm": "1"},
            label="POST",
        ),
    ),
    "admin:events_event_cancel": (
        Case(
            staff(CHANGED, DENIED),
            args=_pk(lambda w: w.event_a),
            method="post",
            data=lambda w: {"confirm": "1", "note": "See you in May."},
            label="POST",
        ),
    ),
    # Team A's occasion is weeks ahead: its organizers are told to wait, team B is refused.
    "admin:events_occasion_attendance": (
        Case(
            staff(OK, DENIED),
            args=_pk(lambda w: w.occasion_a1),
            method="post",
            data=lambda w: {"shown": [w.registration.pk], "attended": [w.registration.pk], "save": "1"},
            label="POST",
        ),
    ),
    "admin:events_registration_change": (
        Case(
            staff(OK, DENIED),
            args=_pk(lambda w: w.registration),
            method="post",
            data=lambda w: {"diet": "Changed by team B", "accessibility": ""},
            label="POST",
        ),
    ),
}

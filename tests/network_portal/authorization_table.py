"""The authorization matrix's table: the outcome of every URL and admin action for each of the
eight people of tests.portal_world, written down once. tests/network_portal/test_authorization_matrix.py
runs it and fails on any URL or action without an entry here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.urls import reverse

from events.models import Event
from newsletters import tokens
from tests.portal_world import (
    MARKER_ACCESS,
    MARKER_DIET,
    MARKER_EVENT,
    MARKER_MESSAGE,
    MARKER_SERIES,
    MARKER_TEAM,
    ROLES,
    World,
)

# --- outcomes ---------------------------------------------------------------------------------
OK = "ok"  # 2xx, or a redirect that is not to a login page nor the admin's "does not exist"
CHANGED = "changed"  # OK, and the POST changed the portal's rows
HIDDEN = "hidden"  # 200, and none of team A's private markers on the page
LOGIN = "login"  # redirect to the sign-in page
ADMIN_LOGIN = "admin_login"  # redirect to the admin's sign-in page
ADMIN_HOME = "admin_home"  # redirect to the admin's index
DENIED = "denied"  # 403, 404 or the admin's redirect away from an object it will not show
FORBIDDEN = "forbidden"  # 403
NOT_FOUND = "not_found"  # 404
BAD_REQUEST = "bad_request"  # 400 (an invalid signed link)
UNCHANGED = "unchanged"  # any answer but a 5xx, no row changed, no private marker shown
REFUSALS = {LOGIN, ADMIN_LOGIN, ADMIN_HOME, DENIED, FORBIDDEN, NOT_FOUND, BAD_REQUEST, UNCHANGED, HIDDEN}

NON_STAFF = ("anonymous", "member", "colleague", "other_member", "coordinator")
STAFF = ("organizer_a", "organizer_b", "superuser")
# Team A's private data is theirs and the superusers' to read.
MAY_READ_TEAM_A = ("organizer_a", "superuser")
TEAM_A_PRIVATE = (MARKER_EVENT, MARKER_SERIES, MARKER_MESSAGE, MARKER_TEAM, MARKER_DIET, MARKER_ACCESS)
PRIVATE_ON_THE_SITE = (MARKER_MESSAGE, MARKER_TEAM, MARKER_DIET, MARKER_ACCESS)


def everyone(rule: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, rule)


def signed_in(rule: str = OK, **roles: str) -> dict[str, str]:
    return {**dict.fromkeys(ROLES, rule), "anonymous": LOGIN, **roles}


def staff(organizer_a: str = OK, organizer_b: str | None = None, superuser: str = OK) -> dict[str, str]:
    """Admin pages: people who are not staff are sent to the admin's sign-in page."""
    return {
        **dict.fromkeys(NON_STAFF, ADMIN_LOGIN),
        "organizer_a": organizer_a,
        "organizer_b": organizer_a if organizer_b is None else organizer_b,
        "superuser": superuser,
    }


SUPERUSER_ONLY = staff(DENIED)  # what the organizers' permission group does not include
TEAM_A_ONLY = staff(OK, DENIED)  # a page of one of team A's objects
NOBODY = staff(DENIED, DENIED, DENIED)  # e.g. adding a registration by hand


@dataclass(frozen=True)
class Case:
    rules: Mapping[str, str]
    args: Callable[[World], list] | None = None  # for reverse()
    path: Callable[[World], str] | None = None  # instead of reverse(): unnamed patterns
    method: str = "get"
    data: Callable[[World], dict] | None = None
    query: str = ""
    # Strings that a refused or scoped answer must not contain (default: team A's private data;
    # on the public site event titles are public).
    private: Callable[[World], tuple[str, ...]] | None = None
    label: str = ""


def _with_member(world: World) -> tuple[str, ...]:
    return (*TEAM_A_PRIVATE, world.member.email)


# --- the member's registration on team A's event ------------------------------------------------
# The member herself, her organization's coordinator, team A's organizers and superusers may act
# on it; to everyone else it does not exist.
MEMBERS_REGISTRATION = signed_in(OK, colleague=NOT_FOUND, other_member=NOT_FOUND, organizer_b=NOT_FOUND)
MEMBERS_REGISTRATION_CHANGE = {
    **MEMBERS_REGISTRATION,
    **dict.fromkeys(("member", "coordinator", "organizer_a", "superuser"), CHANGED),
}


def _registration(world: World) -> list:
    return [world.registration.pk]


def _token(purpose: str) -> Callable[[World], list]:
    return lambda world: [tokens.make(world.subscriber, purpose)]


PUBLIC_AND_MEMBER_PAGES: dict[str, Case | tuple[Case, ...]] = {
    "home": Case(everyone(OK)),
    "privacy": Case(everyone(OK)),
    "healthz": Case(everyone(OK)),
    "set_language": Case(everyone(OK), method="post", data=lambda w: {"language": "da", "next": "/"}),
    # allauth: signed-in people are sent on from the sign-in and sign-up pages (OK covers both).
    "account_login": Case(everyone(OK)),
    "account_logout": Case(everyone(OK)),
    "account_inactive": Case(everyone(OK)),
    "account_signup": Case(everyone(OK)),
    "account_reauthenticate": Case(signed_in()),
    "account_email": Case(signed_in()),
    "account_email_verification_sent": Case(everyone(OK)),
    "account_change_password": Case(signed_in()),
    "account_set_password": Case(signed_in()),
    "account_reset_password": Case(everyone(OK)),
    "account_reset_password_done": Case(everyone(OK)),
    "account_reset_password_from_key": Case(everyone(OK), args=lambda w: ["zz", "not-a-key"]),
    "account_reset_password_from_key_done": Case(everyone(OK)),
    "account_confirm_email": Case(everyone(OK), args=lambda w: ["not-a-key"]),
    "account_request_login_code": Case(everyone(OK)),
    # Without a sign-in in progress there is no code to confirm.
    "account_confirm_login_code": Case(everyone(OK)),
    "members:profile": Case(signed_in()),
    "members:edit": Case(signed_in()),
    # Members' data rights: one's own data, one's own account.
    "members:download_data": Case(signed_in()),
    "members:delete_account": (
        Case(signed_in()),
        # Without the password asked again (or a code), nothing is erased.
        Case(signed_in(UNCHANGED), method="post", data=lambda w: {}, label="POST without reauthentication"),
    ),
    "events:list": (
        Case(everyone(OK)),
        Case(everyone(OK), query="?when=past&format=online&month=2026-11&theme=x", label="filters"),
    ),
    "events:my_registrations": Case(signed_in()),
    "events:cancel": (
        Case(MEMBERS_REGISTRATION, args=_registration),
        Case(MEMBERS_REGISTRATION_CHANGE, args=_registration, method="post", label="POST"),
    ),
    "events:move": Case(
        MEMBERS_REGISTRATION_CHANGE,
        args=_registration,
        method="post",
        data=lambda w: {"occasion": w.occasion_a2.pk},
    ),
    # The calendar file is the member's alone; organizers have the admin's exports.
    "events:registration_ics": Case(signed_in(NOT_FOUND, member=OK), args=_registration),
    "events:series": Case(everyone(OK), args=lambda w: [w.series_a.slug]),
    "events:theme": Case(everyone(OK), args=lambda w: [w.event_a.main_theme.slug]),
    "events:theme_stylesheet": Case(everyone(OK)),
    "events:document": Case(everyone(OK), args=lambda w: [w.document.pk]),
    "events:detail": (
        Case(everyone(OK), args=lambda w: [w.event_a.slug]),
        # A draft is previewed by the team that writes it.
        Case(
            {**everyone(NOT_FOUND), "organizer_a": OK, "superuser": OK},
            args=lambda w: [w.draft_a.slug],
            label="draft of team A",
        ),
    ),
    # Everyone signed in registers themselves on team A's open seminar.
    "events:register": Case(
        signed_in(CHANGED),
        args=lambda w: [w.event_open.slug],
        method="post",
        data=lambda w: {"occasion": w.event_open.occasions.get().pk, "diet": "", "accessibility": ""},
    ),
    # The coordinator's page of the organization's seats: for coordinators only.
    "events:organization_seats": (
        Case(signed_in(FORBIDDEN, coordinator=OK), args=lambda w: [w.event_a.slug]),
        Case(
            signed_in(FORBIDDEN, coordinator=BAD_REQUEST),
            args=lambda w: [w.event_a.slug],
            method="post",
            data=lambda w: {},
            label="empty POST",
        ),
    ),
    # The secret token is the key: calendar apps cannot sign in.
    "events:calendar_feed": (
        Case(everyone(OK), args=lambda w: [w.feed_token]),
        Case(everyone(BAD_REQUEST), path=lambda w: "/events/calendar/%00.ics", label="NUL token"),
    ),
    "events:reset_calendar_feed": Case(signed_in(CHANGED), method="post"),
    "events:feed_rss": Case(everyone(OK)),
    "events:feed_atom": Case(everyone(OK)),
    "newsletters:subscribe": Case(everyone(OK)),
    "newsletters:subscribe_member": Case(signed_in()),
    # Signed links stand in for a login: whoever holds one may use it, a forged one nobody.
    "newsletters:confirm": (
        Case(everyone(OK), args=_token(tokens.CONFIRM)),
        Case(everyone(BAD_REQUEST), args=lambda w: ["forged"], label="forged"),
    ),
    "newsletters:preferences": (
        Case(everyone(OK), args=_token(tokens.PREFERENCES)),
        Case(everyone(BAD_REQUEST), args=lambda w: ["forged"], label="forged"),
    ),
    "newsletters:unsubscribe": (
        Case(everyone(OK), args=_token(tokens.UNSUBSCRIBE)),
        Case(everyone(BAD_REQUEST), args=lambda w: ["forged"], method="post", label="forged POST"),
    ),
    "newsletters:archive": Case(everyone(OK)),
    "newsletters:edition": (
        Case(everyone(OK), args=lambda w: [w.sent_edition.pk]),
        Case(everyone(NOT_FOUND), args=lambda w: [w.edition.pk], label="draft"),
    ),
}


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
    "admin:events_event_participants": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    "admin:events_event_participants_csv": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    "admin:events_event_participants_xlsx": Case(TEAM_A_ONLY, args=_pk(lambda w: w.event_a)),
    **model_admin(
        "events.occasion",
        lambda w: w.occasion_a1,
        changelist=staff(OK, HIDDEN),
        add=staff(OK),
        change=TEAM_A_ONLY,
        delete=TEAM_A_ONLY,
    ),
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


# --- list actions -------------------------------------------------------------------------------
# Each is posted to the model's changelist with an object of team A (or a superuser's account)
# selected: organizer B's attempt must change nothing and show nothing of team A.


def action(
    app_model: str,
    target: Callable[[World], object],
    rules: Mapping[str, str],
    data: Callable[[World], dict] | None = None,
    private: Callable[[World], tuple[str, ...]] | None = None,
    label: str = "",
) -> Case:
    app, model = app_model.split(".")

    def post_data(world: World) -> dict:
        return {
            "_selected_action": [target(world).pk],
            "index": "0",
            **(data(world) if data else {}),
        }

    return Case(
        rules,
        path=lambda world: reverse(f"admin:{app}_{model}_changelist"),
        method="post",
        data=post_data,
        private=private,
        label=label,
    )


def _delete_confirmed(world: World) -> dict:
    return {"post": "yes"}


def _team_a_action(app_model, target, rule_a=OK, data=None, private=None) -> Case:
    return action(
        app_model,
        target,
        staff(rule_a, UNCHANGED, rule_a),
        data=data,
        private=private,
    )


_registration_target = lambda w: w.registration  # noqa: E731
_event_target = lambda w: w.event_a  # noqa: E731

ACTIONS: dict[str, Case | tuple[Case, ...]] = {
    "action:auth.group.delete_selected": action(
        "auth.group", lambda w: Group.objects.get(name="Organizers"), staff(UNCHANGED, UNCHANGED, OK)
    ),
    "action:sites.site.delete_selected": action(
        "sites.site", lambda w: _site(), staff(UNCHANGED, UNCHANGED, OK)
    ),
    "action:account.emailaddress.delete_selected": action(
        "account.emailaddress", lambda w: w.member.emailaddress_set.get(), staff(UNCHANGED, UNCHANGED, OK)
    ),
    "action:account.emailaddress.make_verified": action(
        "account.emailaddress", lambda w: w.member.emailaddress_set.get(), staff(UNCHANGED, UNCHANGED, OK)
    ),
    "action:outbox.outgoingmessage.resend": _team_a_action(
        "outbox.outgoingmessage", lambda w: w.message_a, CHANGED
    ),
    "action:members.organization.delete_selected": action(
        "members.organization", lambda w: w.aarhus, staff(UNCHANGED, UNCHANGED, OK), data=_delete_confirmed
    ),
    # Hole 8: an action obeys the same rules as the change form.
    "action:members.user.verify_membership": (
        action("members.user", lambda w: w.superuser, staff(UNCHANGED, UNCHANGED, OK), label="a superuser"),
        action("members.user", lambda w: w.member, staff(CHANGED), label="a member"),
    ),
    "action:members.user.revoke_verification": (
        action(
            "members.user", lambda w: w.superuser, staff(UNCHANGED, UNCHANGED, CHANGED), label="a superuser"
        ),
        action("members.user", lambda w: w.member, staff(CHANGED), label="a member"),
    ),
    # Nobody erases their own account from the admin (the profile page does that).
    "action:members.user.erase_accounts": (
        action(
            "members.user",
            lambda w: w.superuser,
            staff(UNCHANGED, UNCHANGED, UNCHANGED),
            data=_delete_confirmed,
            label="a superuser",
        ),
        action("members.user", lambda w: w.member, staff(CHANGED), data=_delete_confirmed, label="a member"),
    ),
    "action:members.team.delete_selected": action(
        "members.team", lambda w: w.team_a, staff(UNCHANGED, UNCHANGED, OK), data=_delete_confirmed
    ),
    "action:events.theme.delete_selected": action(
        "events.theme", lambda w: w.event_a.main_theme, staff(OK), data=_delete_confirmed
    ),
    "action:events.contactperson.delete_selected": action(
        "events.contactperson", lambda w: w.contact, staff(CHANGED), data=_delete_confirmed
    ),
    "action:events.speaker.delete_selected": action(
        "events.speaker", lambda w: w.speaker, staff(CHANGED), data=_delete_confirmed
    ),
    "action:events.series.delete_selected": _team_a_action(
        "events.series", lambda w: w.series_a, OK, data=_delete_confirmed
    ),
    "action:events.occasion.delete_selected": _team_a_action(
        "events.occasion", lambda w: w.occasion_a1, OK, data=_delete_confirmed
    ),
    "action:events.event.publish": _team_a_action("events.event", _event_target, OK),
    "action:events.event.cancel_event": _team_a_action("events.event", _event_target, CHANGED),
    "action:events.event.duplicate": _team_a_action(
        "events.event",
        _event_target,
        CHANGED,
        data=lambda w: {"action": "duplicate", "apply": "1", "days": "7"},
    ),
    "action:events.event.write_to_participants": _team_a_action(
        "events.event",
        _event_target,
        CHANGED,
        data=lambda w: {"apply": "1", "subject": "Hello", "body": "Bring a bike.", "nonce": "matrix-nonce"},
    ),
    "action:events.registration.confirm_over_quota": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:events.registration.cancel_registrations": _team_a_action(
        "events.registration", _registration_target, CHANGED, private=_with_member
    ),
    "action:events.registration.mark_attended": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:events.registration.mark_not_attended": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:events.registration.move_to_occasion": _team_a_action(
        "events.registration",
        _registration_target,
        CHANGED,
        data=lambda w: {"apply": "1", "occasion": w.occasion_a2.pk},
        private=_with_member,
    ),
    "action:events.registration.export_csv": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:events.registration.export_xlsx": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:events.registration.print_participant_list": _team_a_action(
        "events.registration", _registration_target, OK, private=_with_member
    ),
    "action:newsletters.subscriber.export_selected_csv": action(
        "newsletters.subscriber", lambda w: w.subscriber, staff(OK)
    ),
    "action:newsletters.subscriber.unsubscribe_selected": action(
        "newsletters.subscriber", lambda w: w.subscriber, staff(CHANGED)
    ),
    "action:newsletters.subscriber.delete_selected": action(
        "newsletters.subscriber", lambda w: w.subscriber, staff(CHANGED), data=_delete_confirmed
    ),
}

MATRIX: dict[str, Case | tuple[Case, ...]] = {**PUBLIC_AND_MEMBER_PAGES, **ADMIN_PAGES, **ACTIONS}
for _name, _extra in ADMIN_POSTS.items():
    _existing = MATRIX[_name]
    MATRIX[_name] = (*(_existing if isinstance(_existing, tuple) else (_existing,)), *_extra)

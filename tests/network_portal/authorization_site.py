"""The authorization table of the portal's own pages (public and member pages).

The table is run by tests/network_portal/test_authorization_matrix.py; MATRIX in
tests/network_portal/authorization_table.py joins the parts."""

from __future__ import annotations

from collections.abc import Callable

from events import evaluation_links
from newsletters import tokens
from tests.network_portal.authorization_rules import (
    BAD_REQUEST,
    CHANGED,
    FORBIDDEN,
    NOT_FOUND,
    OK,
    UNCHANGED,
    Case,
    everyone,
    signed_in,
)
from tests.portal_world import (
    World,
)

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
    "accessibility": Case(everyone(OK)),
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
    # The confirmation step after a date button, for oneself: an occasion of the event only, and a
    # draft's occasions are nobody's to register for.
    "events:confirm_registration": (
        Case(signed_in(OK), args=lambda w: [w.event_open.slug, w.event_open.occasions.get().pk]),
        Case(
            signed_in(NOT_FOUND),
            args=lambda w: [w.event_open.slug, w.occasion_a2.pk],
            label="another event's occasion",
        ),
        Case(
            signed_in(NOT_FOUND),
            args=lambda w: [w.draft_a.slug, w.draft_a.occasions.first().pk],
            label="draft",
        ),
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
        Case(
            signed_in(FORBIDDEN, coordinator=NOT_FOUND),
            args=lambda w: [w.event_a.slug],
            method="post",
            data=lambda w: {"move": w.registration_b.pk, "occasion": w.occasion_a2.pk},
            label="move another organization's registration",
        ),
    ),
    # The secret token is the key: calendar apps cannot sign in.
    "events:calendar_feed": (
        Case(everyone(OK), args=lambda w: [w.feed_token]),
        Case(everyone(BAD_REQUEST), path=lambda w: "/events/calendar/%00.ics", label="NUL token"),
    ),
    "events:reset_calendar_feed": Case(signed_in(CHANGED), method="post"),
    # The signed link is the key: participants evaluate from the follow-up email, signed out.
    "events:evaluation": (
        Case(everyone(OK), args=lambda w: [evaluation_links.token_for(w.registration)]),
        Case(
            everyone(NOT_FOUND),
            path=lambda w: f"/events/evaluation/{w.registration.pk}:forged/",
            label="forged token",
        ),
        # Team A's occasion is weeks ahead: the evaluation is not open, nothing is saved.
        Case(
            everyone(UNCHANGED),
            args=lambda w: [evaluation_links.token_for(w.registration)],
            method="post",
            data=lambda w: {"rating": "5"},
            label="POST before the day",
        ),
    ),
    "events:feed_rss": Case(everyone(OK)),
    "events:feed_atom": Case(everyone(OK)),
    "events:public_calendar": (
        Case(everyone(OK)),
        Case(everyone(OK), query="?theme=x&series=y", label="filters that name nothing"),
    ),
    # The open events API: published events for everyone; a draft is nobody's there, not even
    # its own team's (they preview it on its page).
    "api-v1:openapi-json": Case(everyone(OK)),
    "api-v1:events": Case(everyone(OK)),
    "api-v1:event": (
        Case(everyone(OK), args=lambda w: [w.event_a.slug]),
        Case(everyone(NOT_FOUND), args=lambda w: [w.draft_a.slug], label="draft of team A"),
    ),
    "api-v1:api-root": Case(everyone(NOT_FOUND)),
    # The list other websites embed: published events only, for everyone.
    "embedded_events": (
        Case(everyone(OK)),
        Case(everyone(OK), query="?theme=x&series=y&limit=many&lang=sv", label="whatever a site writes"),
    ),
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

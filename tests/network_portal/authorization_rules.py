"""The outcomes, the people and the helpers the authorization tables are written with.

The table is run by tests/network_portal/test_authorization_matrix.py; MATRIX in
tests/network_portal/authorization_table.py joins the parts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

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

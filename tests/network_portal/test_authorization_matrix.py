"""The authorization matrix: every URL of the portal (its own, allauth's and the admin's, with
every registered model's pages and every list action) requested as each of eight people, with
the outcome of every cell written down once, in MATRIX (tests/network_portal/authorization_table.py).

A URL or an admin action without an entry fails `test_every_url_and_action_has_an_entry`: who
may open a new page is decided when the page is added, not found out later.

Each cell runs in a savepoint that is rolled back, so every request meets the same portal; a
refused POST must leave the portal's rows as they were, and nothing of team A's private data
(MARKER_*) may reach someone who was refused or shown a scoped list.
"""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from members.models import User
from tests.network_portal.authorization_rules import (
    ADMIN_HOME,
    ADMIN_LOGIN,
    BAD_REQUEST,
    CHANGED,
    DENIED,
    FORBIDDEN,
    HIDDEN,
    LOGIN,
    MAY_READ_TEAM_A,
    NOT_FOUND,
    OK,
    PRIVATE_ON_THE_SITE,
    REFUSALS,
    TEAM_A_PRIVATE,
    UNCHANGED,
    Case,
)
from tests.network_portal.authorization_table import MATRIX
from tests.portal_world import (
    ROLES,
    World,
    build_world,
    snapshot,
)

# --- enumerating the portal ---------------------------------------------------------------------


def url_keys(patterns=None, prefix: str = "", namespace: str = "") -> list[str]:
    """Every URL pattern of the root URLconf: "namespace:name", or the route of an unnamed one."""
    keys = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            keys += url_keys(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            if pattern.name:
                keys.append(f"{namespace}:{pattern.name}" if namespace else pattern.name)
            else:
                keys.append(route)
    return keys


def action_keys(superuser: User) -> list[str]:
    """Every list action of every registered model, as a superuser is offered them."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    keys = []
    for model, model_admin_ in admin.site._registry.items():
        for name in model_admin_.get_actions(request):
            keys.append(f"action:{model._meta.app_label}.{model._meta.model_name}.{name}")
    return keys


def _cases(key: str) -> tuple[Case, ...]:
    entry = MATRIX[key]
    return entry if isinstance(entry, tuple) else (entry,)


# --- running a cell -------------------------------------------------------------------------------


def _path_of(location: str) -> str:
    return urlsplit(location).path


def _body(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", "replace")


def problem(
    role: str, rule: str, response, changed: bool | None, body: str, private: tuple[str, ...]
) -> str | None:
    """What is wrong with the answer for the rule, or None."""
    status = response.status_code
    location = _path_of(response.get("Location", ""))
    redirect = 300 <= status < 400
    to_login = redirect and location == reverse("account_login")
    to_admin_login = redirect and location == reverse("admin:login")
    # The admin sends a missing (or hidden) object's pages back to its index with a message.
    to_admin_index = redirect and location == reverse("admin:index")
    if status >= 500:
        return f"server error {status}"
    if rule in REFUSALS:
        shown = [marker for marker in private if marker in body] if role not in MAY_READ_TEAM_A else []
        if shown:
            return f"shows {shown} (status {status})"
        if changed and rule != HIDDEN:
            return f"changed rows (status {status})"
    ok = 200 <= status < 300 or (redirect and not (to_login or to_admin_login or to_admin_index))
    expected = {
        OK: ok,
        CHANGED: ok and changed is not False,
        HIDDEN: status == 200,
        LOGIN: to_login,
        ADMIN_LOGIN: to_admin_login,
        ADMIN_HOME: to_admin_index,
        DENIED: status in (403, 404) or to_admin_index or to_admin_login,
        FORBIDDEN: status == 403,
        NOT_FOUND: status == 404,
        BAD_REQUEST: status == 400,
        UNCHANGED: True,
    }[rule]
    if expected:
        return None
    if rule == CHANGED and ok:
        return f"changed nothing (status {status})"
    return f"status {status}" + (f" → {location}" if location else "")


def run_cell(client: Client, world: World, key: str, case: Case) -> tuple[object, bool | None, str, str]:
    """Request the cell in a savepoint that is rolled back afterwards."""
    if case.path is not None:
        url = case.path(world)
    else:
        url = reverse(key, args=case.args(world) if case.args else None)
    url += case.query
    data = case.data(world) if case.data else {}
    if key.startswith("action:"):
        data.setdefault("action", key.rsplit(".", 1)[1])
    cache.clear()  # rate limits count per test, not per matrix
    with transaction.atomic():
        before = snapshot() if case.method == "post" else None
        response = client.post(url, data) if case.method == "post" else client.get(url)
        body = _body(response)
        changed = (snapshot() != before) if case.method == "post" else None
        transaction.set_rollback(True)
    return response, changed, body, url


# --- the tests ------------------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("reference_organizations")


@pytest.fixture
def world(member, colleague, other_member, aarhus, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    return build_world(member, colleague, other_member, aarhus)


def test_every_url_and_action_has_an_entry(world):
    urls = url_keys()
    actions = action_keys(world.superuser)
    missing = [f"new URL {key} has no authorization entry" for key in urls if key not in MATRIX]
    missing += [f"new admin action {key} has no authorization entry" for key in actions if key not in MATRIX]
    stale = [f"entry {key} names no URL or action" for key in MATRIX if key not in {*urls, *actions}]
    assert not missing + stale, "\n".join(missing + stale)
    for key in MATRIX:
        for case in _cases(key):
            assert set(case.rules) == set(ROLES), (
                f"{key} {case.label}: rules for {set(ROLES) ^ set(case.rules)}"
            )


@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(role, world):
    client = Client(raise_request_exception=False)
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    cookies = copy.deepcopy(client.cookies)
    present = {*url_keys(), *action_keys(world.superuser)}

    failures = []
    for key in MATRIX:
        if key not in present:
            continue  # test_every_url_and_action_has_an_entry names it
        for case in _cases(key):
            client.cookies = copy.deepcopy(cookies)  # a logout in one cell must not sign out the next
            response, changed, body, url = run_cell(client, world, key, case)
            rule = case.rules[role]
            if case.private is not None:
                private = case.private(world)
            else:
                private = TEAM_A_PRIVATE if key.startswith(("admin", "action:")) else PRIVATE_ON_THE_SITE
            found = problem(role, rule, response, changed, body, private)
            if found:
                label = f" ({case.label})" if case.label else ""
                failures.append(f"{key}{label} {case.method.upper()} {url}: expected {rule}, {found}")
    assert not failures, f"{role}: {len(failures)} cells wrong\n" + "\n".join(failures)

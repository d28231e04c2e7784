"""The authorization matrix's table: the outcome of every URL and admin action for each of the
eight people of tests.portal_world, written down once, in parts by area (authorization_site,
authorization_admin, authorization_actions; the outcomes in authorization_rules).
tests/network_portal/test_authorization_matrix.py runs it and fails on any URL or action without
an entry here."""

from __future__ import annotations

from tests.network_portal.authorization_actions import ACTIONS
from tests.network_portal.authorization_admin import ADMIN_PAGES, ADMIN_POSTS
from tests.network_portal.authorization_rules import Case
from tests.network_portal.authorization_site import PUBLIC_AND_MEMBER_PAGES

MATRIX: dict[str, Case | tuple[Case, ...]] = {**PUBLIC_AND_MEMBER_PAGES, **ADMIN_PAGES, **ACTIONS}
for _name, _extra in ADMIN_POSTS.items():
    _existing = MATRIX[_name]
    MATRIX[_name] = (*(_existing if isinstance(_existing, tuple) else (_existing,)), *_extra)

"""Property-based tests of every form a visitor, a member or an organizer can post (listed in
tests/network_portal/fuzz_forms_table.py): whatever is posted (see tests/fuzz_strategies.py), the
portal answers without a server error, and a request it refuses (4xx, a form shown again with its
errors, a redirect with an error message) leaves every row of the portal as it was.

Each form is fuzzed from a valid baseline, with a few fields replaced, made into lists or
dropped, so that generated requests reach the services as well as the first validation error.
Each example runs in a savepoint that is rolled back: every example meets the same portal.

Bounded for CI (derandomized, so a run is reproducible): FUZZ_EXAMPLES examples per form.
"""

from __future__ import annotations

import copy
import csv
import io
import os
from urllib.parse import quote

import pytest
from django import forms
from django.contrib.messages import constants as message_levels
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.forms.formsets import BaseFormSet
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_strategies import DROP, mutated, nasty_scalar, oversized
from tests.network_portal.fuzz_forms_table import SPECS, FormSpec, csv_upload
from tests.portal_world import World, build_world, snapshot

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))

pytestmark = pytest.mark.usefixtures("reference_organizations")


# --- what counts as refused ---------------------------------------------------------------------


def _bound_errors(value) -> bool:
    form = getattr(value, "form", value)  # the admin's AdminForm wraps the form
    if isinstance(form, forms.BaseForm):
        return form.is_bound and bool(form.errors)
    if isinstance(form, BaseFormSet):
        return form.is_bound and form.total_error_count() > 0
    return False


def refused(response) -> bool:
    """A 4xx; a page shown again with form errors (or an import that failed); or a redirect
    that carries an error message."""
    if response.status_code >= 400:
        return True
    context = response.context
    if context is not None:
        for layer in context if isinstance(context, list) else [context]:
            for values in layer.dicts:
                for value in values.values():
                    if _bound_errors(value):
                        return True
                    if isinstance(value, list) and any(_bound_errors(item) for item in value):
                        return True
                    if getattr(value, "ok", True) is False:  # a subscriber import's result
                        return True
    storage = getattr(response.wsgi_request, "_messages", None)
    queued = getattr(storage, "_queued_messages", [])
    return any(message.level >= message_levels.ERROR for message in queued)


# --- generated CSV files --------------------------------------------------------------------------


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "language", "topics"])
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding, "replace")


def csv_uploads() -> st.SearchStrategy[SimpleUploadedFile]:
    cell = st.one_of(
        st.sampled_from(["anna@example.org", "bo@example.dk", "en", "da", "sv", "", "charging"]),
        nasty_scalar(),
    )
    rows = st.lists(st.lists(cell, min_size=0, max_size=5), max_size=4)
    content = st.one_of(
        st.builds(_csv_bytes, rows, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"])),
        st.binary(max_size=300),
        oversized().map(lambda text: f"email,language,topics\n{text}@example.org,en,\n".encode()),
        st.just(b'email,language,topics\n"unterminated,en,\n'),
        st.just(b"\x00\x00\x00"),
    )
    name = st.sampled_from(["list.csv", "list.xlsx", "list", "..\\..\\list.csv", "\u202egpj.csv"])
    return st.builds(
        lambda data, filename: SimpleUploadedFile(filename, data, content_type="text/csv"), content, name
    )


# --- the property ---------------------------------------------------------------------------------


@pytest.fixture
def world(member, colleague, other_member, aarhus, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    return build_world(member, colleague, other_member, aarhus)


def _query(data: dict) -> str:
    """A query string as a hostile client writes it: percent signs stay as they are, so %00
    and invalid UTF-8 (%ED%A0%80) reach the portal."""
    pairs = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append(f"{quote(key, safe='%')}={quote(str(item), safe='%')}")
    return "&".join(pairs)


def _send(client: Client, spec: FormSpec, url: str, payload: dict) -> tuple[object, bool]:
    """The request in a savepoint that is rolled back; whether it changed any row."""
    with transaction.atomic():
        before = snapshot()
        if spec.method == "get":
            response = client.get(f"{url}?{_query(payload)}")
        else:
            response = client.post(url, payload)
        changed = snapshot() != before
        transaction.set_rollback(True)
    return response, changed


def _valid_csv() -> SimpleUploadedFile:
    return csv_upload(b"email,language,topics\nanna@example.org,da,\n")


def _check(spec: FormSpec, client: Client, cookies, url: str, data: dict, upload) -> None:
    """No server error; a refused request changes no row."""
    client.cookies = copy.deepcopy(cookies)
    cache.clear()  # rate limits would refuse every example after the first few
    payload = {key: value for key, value in data.items() if value is not DROP}
    if upload is not None:
        upload.seek(0)
        payload["file"] = upload
    response, changed = _send(client, spec, url, payload)
    assert response.status_code < 500, f"{spec.name}: {response.status_code} for {payload!r}"
    if spec.method == "get" or spec.always_refused or refused(response):
        assert not changed, f"{spec.name}: refused ({response.status_code}) but rows changed: {payload!r}"


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_no_form_answers_with_a_server_error_or_changes_rows_it_refuses(spec, world):
    client = Client()
    user = world.users[spec.role]
    if user is not None:
        client.force_login(user)
    cookies = copy.deepcopy(client.cookies)
    url = spec.url(world)
    baseline = spec.baseline(world, client)
    if not spec.always_refused:
        # The fuzzing starts from data the form accepts, so that it reaches the services.
        valid = {**baseline, **({"file": _valid_csv()} if spec.upload else {})}
        response, _changed = _send(client, spec, url, valid)
        assert response.status_code < 400 and not refused(response), f"{spec.name}: baseline refused"
        client.cookies = copy.deepcopy(cookies)
    generated = mutated(baseline, spec.extra_keys, spec.good(world))
    uploads = csv_uploads() if spec.upload else st.none()

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(data=generated, upload=uploads)
    def posting(data, upload):
        _check(spec, client, cookies, url, data, upload)

    for known in spec.known:
        change = known(world)
        upload = change.pop("file", None)
        _check(spec, client, cookies, url, {**baseline, **change}, upload)
    posting()

"""Fixtures shared by the newsletter tests."""

import pytest

from newsletters import delivery
from tests import factories


@pytest.fixture
def published(monkeypatch):
    """Batch tasks published, recorded instead of run."""
    calls = []
    monkeypatch.setattr(
        delivery, "publish_batch", lambda edition_id, size=None: calls.append(edition_id) or True
    )
    return calls


@pytest.fixture
def hooks(db, django_capture_on_commit_callbacks):
    """Service calls outside a request commit (and so send) at the end of each with-block."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def charging(db):
    return factories.theme("charging", "Charging infrastructure")


@pytest.fixture
def cycling(db):
    return factories.theme("cycling", "Cycling")


@pytest.fixture
def parking(db):
    return factories.theme("parking", "Parking")

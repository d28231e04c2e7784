"""Fixtures shared by the events tests."""

import pytest


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client

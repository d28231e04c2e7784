"""Production refuses to start on a SECRET_KEY anyone could know or guess (hole 5 of issue 8):
with the key of `.env.example`, anyone could forge email-confirmation keys and newsletter links."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.utils import get_random_secret_key

from network_portal.secret_key import OLD_EXAMPLE_KEY, weakness

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "portal.example.org",
    "SITE_URL": "https://portal.example.org",
    "DJANGO_SETTINGS_MODULE": "network_portal.settings",
}


def _start(secret_key: str) -> subprocess.CompletedProcess:
    """Start the settings in a fresh process, as gunicorn or manage.py would."""
    inherited = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**inherited, **PRODUCTION, "SECRET_KEY": secret_key},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _env_example_key() -> str:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return next(line.partition("=")[2] for line in lines if line.startswith("SECRET_KEY="))


@pytest.mark.parametrize(
    "secret_key, message",
    [
        (OLD_EXAMPLE_KEY, "SECRET_KEY is the placeholder from .env.example."),
        ("x" * 60, "at least 10 different characters"),
        ("django-insecure-" + get_random_secret_key(), 'it contains "djangoinsecure"'),
    ],
    ids=["env-example", "repeated-character", "django-insecure"],
)
def test_it_refuses_to_start_on_a_known_or_guessable_key(secret_key, message):
    result = _start(secret_key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr  # and says how to make a real one


def test_it_starts_on_a_random_token():
    result = _start(secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stderr


def test_env_example_carries_no_key_that_starts_production():
    key = _env_example_key()
    assert weakness(key) or key == ""
    result = _start(key)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    "secret_key",
    [
        "change-me-" + secrets.token_urlsafe(50),
        "Change_Me" + secrets.token_urlsafe(50),
        secrets.token_urlsafe(30) + "-example-" + secrets.token_urlsafe(30),
        "my-secret-key-" + secrets.token_urlsafe(50),
        "short-" + secrets.token_urlsafe(20),
        "prod-" + "k3y-Z" * 12,  # 9 different characters
        "test-only-secret-key-" + "x" * 40,
        "0123456789" * 6,  # ten different characters, repeated
        "abcdefghijklmnopqrstuvwxyz" * 2,  # 26 different characters, still a repetition
    ],
)
def test_placeholders_and_low_entropy_keys_are_weak(secret_key):
    assert weakness(secret_key)


@pytest.mark.parametrize(
    "make_key",
    [
        get_random_secret_key,
        lambda: secrets.token_urlsafe(50),
        lambda: secrets.token_hex(32),  # only 16 symbols, 4 bits each at most
        lambda: secrets.token_hex(25),
    ],
    ids=["django", "token_urlsafe", "token_hex-32", "token_hex-25"],
)
def test_keys_from_the_usual_generators_pass(make_key):
    for _ in range(500):
        key = make_key()
        assert weakness(key) == "", key

"""Settings refuse unsafe production values, and `check --deploy` is clean with real ones."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "hzV3q9Lr0cTwY7mKx2Ae5NbUj8Sg4Pd6Fo1Ri-Xl_WsGtZyHvQnMkBuCaJe0Tf7Dp",
    "ALLOWED_HOSTS": "portal.example.org",
    "SITE_URL": "https://portal.example.org",
    "CACHE_URL": "dbcache://portal_cache",
    "DJANGO_SETTINGS_MODULE": "network_portal.settings",
}
_INHERITED = ("PATH", "HOME", "LANG")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean_env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_each_process_has_a_cache_of_its_own():
    """Public pages would be renewed in one process only (network_portal.page_cache)."""
    result = _manage("check", "--deploy", **{**PRODUCTION_ENV, "CACHE_URL": "locmemcache://"})
    assert "portal.W002" in result.stdout + result.stderr


def test_check_deploy_warns_when_links_in_emails_are_not_https():
    result = _manage("check", "--deploy", **{**PRODUCTION_ENV, "SITE_URL": "http://portal.example.org"})
    assert "portal.W001" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "change, message",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "at least 50 characters"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is not set"),
        ({"LANGUAGE_CODE": "de"}, "LANGUAGE_CODE must be one of"),
        ({"TIME_ZONE": "UTC"}, "TIME_ZONE must be"),
    ],
)
def test_debug_off_refuses_to_start_without_real_values(change, message):
    result = _manage("check", **{**PRODUCTION_ENV, **change})
    assert result.returncode != 0
    assert message in result.stderr


def test_development_needs_nothing_but_debug():
    result = _manage("check", DEBUG="true", DJANGO_SETTINGS_MODULE="network_portal.settings")
    assert result.returncode == 0, result.stderr


_SHOW = (
    "from django.conf import settings as s; "
    "print(s.CELERY_TASK_ALWAYS_EAGER, s.DATABASES['default']['ENGINE'], s.EMAIL_BACKEND)"
)


def test_embedded_defaults_need_no_server():
    result = _manage(
        "shell", "--no-imports", "-c", _SHOW, DEBUG="true", DJANGO_SETTINGS_MODULE="network_portal.settings"
    )
    assert result.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_environment_switches_to_production_parts():
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        _SHOW,
        **PRODUCTION_ENV,
        DATABASE_URL="postgres://portal:portal@127.0.0.1:5432/portal",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        EMAIL_URL="smtp://127.0.0.1:1025",
    )
    assert result.stdout.split()[-3:] == [
        "False",
        "django.db.backends.postgresql",
        "mail.backends.EmailBackend",
    ], result.stderr


def test_responses_carry_security_headers_and_a_strict_csp(client, db):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_templates_carry_no_inline_script_and_no_external_assets():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<script>" not in text and "<script " not in text.replace('<script src="', ""), template
        assert "//cdn" not in text and "https://" not in text, template

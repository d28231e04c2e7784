"""Setup (issue 11, defect 12): `make run PORT=…`, the site's domain read from SITE_URL while the
portal runs rather than copied at migrate, `EMAIL_URL=filemail:///abs/path` writing to that
folder, and compiled translations from `make venv` alone."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

from network_portal.email_url import email_settings
from tests.factories import event as make_event

ROOT = Path(__file__).resolve().parents[2]
_INHERITED = ("PATH", "HOME", "LANG")

# --- EMAIL_URL ----------------------------------------------------------------------------------


def test_filemail_with_an_absolute_folder_writes_there():
    config = email_settings("filemail:///srv/portal/mail", Path("/project"))
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert config["EMAIL_FILE_PATH"] == "/srv/portal/mail"


def test_filemail_with_a_relative_folder_is_under_the_project_wherever_the_process_runs():
    assert email_settings("filemail://var/mail", Path("/project"))["EMAIL_FILE_PATH"] == "/project/var/mail"


def test_filemail_without_a_folder_is_refused():
    with pytest.raises(ImproperlyConfigured, match="needs a folder"):
        email_settings("filemail://", Path("/project"))


def test_other_email_urls_are_read_as_before():
    config = email_settings("smtp://user:secret@mail.example.org:587", Path("/project"))
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"], config["EMAIL_HOST_USER"]) == (
        "mail.example.org",
        587,
        "user",
    )


def test_the_portal_sends_into_the_absolute_filemail_folder(tmp_path):
    folder = tmp_path / "mails"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "shell",
            "--no-imports",
            "-c",
            "from django.core.mail import send_mail; "
            "send_mail('Hi', 'Body', 'a@example.org', ['b@example.org'])",
        ],
        cwd=elsewhere,
        env={
            **env,
            "DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "network_portal.settings",
            "EMAIL_URL": f"filemail://{folder}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (written,) = list(folder.iterdir())
    assert "Subject: Hi" in written.read_text()
    assert not (elsewhere / str(folder).lstrip("/")).exists()


# --- the site's domain --------------------------------------------------------------------------


@pytest.fixture
def stale_site(db):
    """The Site row as a migrate long ago left it."""
    Site.objects.update_or_create(pk=1, defaults={"domain": "old.example.org", "name": "Old name"})


@override_settings(SITE_URL="https://portal.example.dk", NETWORK_NAME="Grøn Mobilitet")
@pytest.mark.parametrize("feed", ["events:feed_rss", "events:feed_atom"])
def test_feeds_link_to_the_domain_of_site_url_now(client, stale_site, feed):
    event = make_event()
    text = client.get(reverse(feed)).text
    assert f"portal.example.dk{event.get_absolute_url()}" in text
    assert "old.example.org" not in text


@override_settings(SITE_URL="https://portal.example.dk")
def test_view_on_site_in_the_admin_goes_to_the_domain_of_site_url_now(client, stale_site, superuser):
    event = make_event()
    client.force_login(superuser)
    content_type = ContentType.objects.get_for_model(event)
    response = client.get(
        reverse("admin:view_on_site", kwargs={"content_type_id": content_type.pk, "object_id": event.pk})
    )
    assert response.status_code == 302
    assert response.url.endswith(f"://portal.example.dk{event.get_absolute_url()}")


def test_a_changed_site_url_counts_from_the_next_request(client, stale_site):
    make_event()
    with override_settings(SITE_URL="https://first.example.dk"):
        assert "first.example.dk" in client.get(reverse("events:feed_rss")).text
    with override_settings(SITE_URL="https://second.example.dk"):
        text = client.get(reverse("events:feed_rss")).text
        assert "second.example.dk" in text and "first.example.dk" not in text


# --- Makefile -----------------------------------------------------------------------------------

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _dry_run(*args: str, **env: str) -> str:
    clean = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    result = subprocess.run(
        ["make", "-n", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_make
def test_make_run_listens_on_port_8000_by_default():
    assert re.search(r"runserver 127\.0\.0\.1:8000$", _dry_run("run"), re.MULTILINE)


@needs_make
def test_make_run_takes_a_port_and_links_to_it():
    commands = _dry_run("run", "PORT=8123")
    link = r"SITE_URL=\$\{SITE_URL:-http://127\.0\.0\.1:8123\}"
    assert re.search(link + r".* runserver 127\.0\.0\.1:8123$", commands, re.MULTILINE)
    assert "runserver 127.0.0.1:8124" in _dry_run("run", PORT="8124")


@needs_make
@pytest.mark.parametrize("target", ["venv", "worker", "beat", "run", "test"])
def test_entry_points_compile_the_translations(target):
    # Not in git: without them every page and email falls back to English.
    assert "compilemessages" in _dry_run(target)

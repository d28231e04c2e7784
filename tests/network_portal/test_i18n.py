"""English, Danish and Swedish: switcher, remembered preference, complete catalogues, local dates."""

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = {language: ROOT / "locale" / language / "LC_MESSAGES" / "django.po" for language in ("da", "sv")}
SOURCE_DIRS = ["members", "events", "newsletters", "mail", "network_portal", "templates"]


def _t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def _entries(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgstr values and flags (the header entry left out)."""
    entries, current, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if current and current.get("msgid"):
                entries.append(current)
            current, field = None, None
            continue
        current = current or {"flags": "", "msgid": "", "msgstr": {}}
        if line.startswith("#,"):
            current["flags"] += line
        elif line.startswith("#"):
            continue
        elif match := re.match(r'(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line):
            field = match.group(1)
            target = current["msgstr"] if field.startswith("msgstr") else current
            target[field] = match.group(2)
        elif line.startswith('"') and field:
            target = current["msgstr"] if field.startswith("msgstr") else current
            target[field] += line[1:-1]
    return entries


@pytest.mark.parametrize("language", CATALOGUES)
def test_catalogue_is_complete(language):
    entries = _entries(CATALOGUES[language])
    assert len(entries) > 50
    untranslated = [entry["msgid"] for entry in entries if not all(entry["msgstr"].values())]
    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy


def test_catalogues_hold_every_string_in_the_source(tmp_path):
    """makemessages on a copy of the source finds nothing the committed catalogues lack."""
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path)
    (tmp_path / "locale" / "da").mkdir(parents=True)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "da", "-v0"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true"},
        check=True,
        capture_output=True,
    )
    extracted = {entry["msgid"] for entry in _entries(tmp_path / "locale/da/LC_MESSAGES/django.po")}
    committed = {entry["msgid"] for entry in _entries(CATALOGUES["da"])}
    assert extracted - committed == set()


def test_language_switch_for_a_visitor_sets_the_cookie(client, db):
    response = client.post(reverse("set_language"), {"language": "da", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "da"
    page = client.get("/")
    assert page.headers["Content-Language"] == "da"
    assert _t("da", "Skip to main content") in page.text
    assert _t("da", "Skip to main content") != "Skip to main content"


def test_member_preference_wins_over_the_cookie(client, member):
    member.preferred_language = "sv"
    member.save()
    client.force_login(member)
    client.cookies["django_language"] = "da"
    page = client.get("/")
    assert page.headers["Content-Language"] == "sv"


def test_switching_language_signed_in_updates_the_preference(client, member):
    client.force_login(member)
    client.post(reverse("set_language"), {"language": "sv", "next": "/"})
    member.refresh_from_db()
    assert member.preferred_language == "sv"


def test_unknown_language_is_ignored(client, member):
    client.force_login(member)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    member.refresh_from_db()
    assert member.preferred_language == "en"


def test_default_language_is_a_setting(client, db, settings):
    settings.LANGUAGE_CODE = "sv"
    assert client.get("/").headers["Content-Language"] == "sv"


@pytest.mark.parametrize(
    "language, zone, expected",
    [
        ("da", "Europe/Copenhagen", "23. november 2026"),
        ("sv", "Europe/Stockholm", "23 november 2026"),
        ("en", "Europe/Copenhagen", "Nov. 23, 2026"),
    ],
)
def test_dates_are_shown_in_the_local_zone_and_the_members_format(
    client, member, settings, language, zone, expected
):
    settings.TIME_ZONE = zone
    # 23:30 UTC is already the next day in Copenhagen and Stockholm.
    member.date_joined = dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)
    member.preferred_language = language
    member.save()
    client.force_login(member)
    assert expected in client.get(reverse("members:profile")).text

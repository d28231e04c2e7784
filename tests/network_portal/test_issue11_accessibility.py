"""Issue 11: the accessibility statement the EU web accessibility directive asks for, linked from
every page, and form controls whose edges can be seen (WCAG 1.4.11, at least 3:1)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PORTAL_CSS = ROOT / "static" / "css" / "portal.css"


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula_matches_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#dee2e6", "#ffffff") < 1.4  # Bootstrap's default border: the defect


def _rule(selector_part: str) -> str:
    css = re.sub(r"/\*.*?\*/", "", PORTAL_CSS.read_text(), flags=re.DOTALL)
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        names = {name.strip() for name in selectors.split(",")}
        if selector_part in names:
            return body
    raise AssertionError(f"no rule for {selector_part} in portal.css")


@pytest.mark.parametrize("control", [".form-control", ".form-select", ".form-check-input"])
def test_form_control_borders_have_at_least_3_to_1_against_white(control):
    colour = re.search(r"--bs-border-color:\s*(#[0-9a-fA-F]{6})", _rule(control)).group(1)
    assert contrast(colour, "#ffffff") >= 3


@pytest.mark.parametrize(
    "focused",
    [
        ".nav-link:focus-visible",
        ".form-control:focus-visible",
        ".form-select:focus-visible",
        ".form-check-input:focus-visible",
        "a:focus-visible",
        "button:focus-visible",
    ],
)
def test_one_strong_focus_style_covers_bootstraps_components(focused):
    body = _rule(focused)
    outline = re.search(r"outline:\s*(\d+)px solid (#[0-9a-fA-F]{6})", body)
    assert outline and int(outline.group(1)) >= 2
    # Yellow on the green header, with a near-black ring for white backgrounds.
    assert contrast(outline.group(2), "#1d5b32") >= 3
    ring = re.search(r"box-shadow:\s*0 0 0 \d+px (#[0-9a-fA-F]{6})", body).group(1)
    assert contrast(ring, "#ffffff") >= 3


@pytest.mark.parametrize(
    ("language", "heading", "status", "authority"),
    [
        ("en", "Accessibility statement", "partially compliant", "Digitaliseringsstyrelsen"),
        ("da", "Tilgængelighedserklæring", "delvist i overensstemmelse", "Digitaliseringsstyrelsen"),
        ("sv", "Tillgänglighetsredogörelse", "delvis förenlig", "Myndigheten för digital förvaltning"),
    ],
)
def test_accessibility_statement_in_each_language(client, db, language, heading, status, authority):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("accessibility"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert heading in html and status in html
    assert "WCAG" in html and "EN 301 549" in html
    assert authority in html and "DIGG" in html
    assert 'href="https://digst.dk/" lang="da"' in html and 'href="https://www.digg.se/" lang="sv"' in html
    assert f"mailto:{settings.ACCESSIBILITY_CONTACT_EMAIL}" in html


def test_statement_names_the_configured_contact(client, db, settings):
    settings.ACCESSIBILITY_CONTACT_EMAIL = "tilgaengelighed@example.dk"
    html = client.get(reverse("accessibility")).content.decode()
    assert 'href="mailto:tilgaengelighed@example.dk"' in html


@pytest.mark.parametrize("path", ["/", "/events/", "/newsletter/", "/privacy/", "/accounts/login/"])
def test_every_page_links_the_statement_from_its_footer(client, db, path):
    html = client.get(path).content.decode()
    footer = html[html.index('<footer class="site-footer">') :]
    assert f'href="{reverse("accessibility")}"' in footer

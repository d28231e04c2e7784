import pytest
from django.core.management import call_command
from django.db.models import Count

from members.models import Organization, OrganizationDomain

pytestmark = pytest.mark.usefixtures("reference_organizations")


def _code(country, kind, code):
    return Organization.objects.get(country=country, kind=kind, official_code=code)


def test_it_ships_every_municipality_region_and_county_board():
    counts = {
        (row["country"], row["kind"]): row["n"]
        for row in Organization.objects.values("country", "kind").annotate(n=Count("id")).order_by()
    }
    assert counts[("DK", "municipality")] == 98
    assert counts[("DK", "region")] == 5
    assert counts[("SE", "county_board")] == 21
    assert counts[("SE", "municipality")] == 290


@pytest.mark.parametrize(
    "country, kind, code, name",
    [
        ("DK", "municipality", "101", "Københavns Kommune"),
        ("DK", "municipality", "751", "Aarhus Kommune"),
        ("DK", "municipality", "851", "Aalborg Kommune"),
        ("DK", "municipality", "400", "Bornholms Regionskommune"),
        ("DK", "municipality", "492", "Ærø Kommune"),
        ("DK", "municipality", "825", "Læsø Kommune"),
        ("DK", "region", "1084", "Region Hovedstaden"),
        ("DK", "region", "1085", "Region Sjælland"),
        ("SE", "municipality", "0180", "Stockholms kommun"),
        ("SE", "municipality", "1480", "Göteborgs kommun"),
        ("SE", "municipality", "1280", "Malmö kommun"),
        ("SE", "municipality", "2584", "Kiruna kommun"),
        ("SE", "municipality", "2480", "Umeå kommun"),
    ],
)
def test_it_has_official_codes_and_local_spelling(country, kind, code, name):
    assert _code(country, kind, code).name == name


@pytest.mark.parametrize("code, letter", [("01", "AB"), ("03", "C"), ("12", "M"), ("14", "O"), ("25", "BD")])
def test_county_boards_carry_number_and_letter(code, letter):
    board = _code("SE", "county_board", code)
    assert board.county_letter == letter
    assert board.name.startswith("Länsstyrelsen")


def test_christianso_is_not_a_municipality():
    assert not Organization.objects.filter(country="DK", official_code="411").exists()


def test_all_county_boards_share_one_domain():
    assert Organization.objects.for_email_domain("lansstyrelsen.se").count() == 21


def test_domain_lookup_covers_subdomains_and_case():
    assert list(Organization.objects.for_email_domain("Teknik.Aarhus.DK")) == [
        _code("DK", "municipality", "751")
    ]
    assert not Organization.objects.for_email_domain("notaarhus.dk").exists()
    assert not Organization.objects.for_email_domain("dk").exists()


def test_inactive_organizations_are_not_offered():
    aarhus = _code("DK", "municipality", "751")
    aarhus.is_active = False
    aarhus.save()
    assert not Organization.objects.for_email_domain("aarhus.dk").exists()


def test_load_organizations_is_idempotent_and_keeps_domains_added_in_admin(capsys):
    aarhus = _code("DK", "municipality", "751")
    OrganizationDomain.objects.create(organization=aarhus, domain="mobility.example")
    before = Organization.objects.count()
    call_command("load_organizations")
    assert Organization.objects.count() == before
    assert "0 created, 414 updated" in capsys.readouterr().out
    assert aarhus.domains.filter(domain="mobility.example").exists()

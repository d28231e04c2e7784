"""Reference data: the Danish municipalities and regions, the Swedish county administrative
boards and municipalities, with their official codes, region or county, and email domains.

Used by a data migration (with the historical models) and by `manage.py load_organizations`
(with the current ones), so the loader takes the model classes as arguments.
"""

import json
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "fixtures_data" / "organizations.json"


def read_records(path: Path = DATA_FILE) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def load_organizations(organization_model, domain_model, records: list[dict]) -> tuple[int, int]:
    """Create or update each organization by (country, kind, official code); idempotent.
    Returns (created, updated). Domains are added, never removed: an organizer may have
    added one in admin."""
    created = updated = 0
    # The historical model of the first data migration has no region yet.
    with_region = any(field.name == "region" for field in organization_model._meta.get_fields())
    for record in records:
        defaults = {"name": record["name"], "county_letter": record.get("county_letter", "")}
        if with_region:
            defaults["region"] = record.get("region", "")
        organization, was_created = organization_model.objects.update_or_create(
            country=record["country"],
            kind=record["kind"],
            official_code=record["code"],
            defaults=defaults,
        )
        created += was_created
        updated += not was_created
        for domain in record.get("email_domains", []):
            domain_model.objects.get_or_create(organization=organization, domain=domain.lower())
    return created, updated

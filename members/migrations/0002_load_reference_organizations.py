"""Loads the reference organizations (Danish municipalities and regions, Swedish county
administrative boards and municipalities) so that every new database has them. Later changes to
the data file are applied with `manage.py load_organizations`, which is idempotent."""

from django.db import migrations


def load(apps, schema_editor):
    from members.reference import load_organizations, read_records

    load_organizations(apps.get_model("members", "Organization"), apps.get_model("members", "OrganizationDomain"), read_records())


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

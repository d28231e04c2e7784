"""Every organization gets the region (Denmark) or county (Sweden) it lies in, for the Network
page's coverage per region; the reference organizations are filled in from the data file."""

from django.db import migrations, models


def fill_regions(apps, schema_editor):
    from members.reference import load_organizations, read_records

    load_organizations(
        apps.get_model("members", "Organization"), apps.get_model("members", "OrganizationDomain"), read_records()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0004_constraint_messages"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="region",
            field=models.CharField(
                blank=True,
                help_text="The Danish region or Swedish county the organization lies in, e.g. Region Midtjylland.",
                max_length=100,
                verbose_name="region or county",
            ),
        ),
        migrations.RunPython(fill_regions, migrations.RunPython.noop),
    ]

"""Seeds the themes (events/reference.py)."""

from django.db import migrations


def seed(apps, schema_editor):
    from events.reference import load_themes

    load_themes(apps.get_model("events", "Theme"))


class Migration(migrations.Migration):
    dependencies = [("events", "0002_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

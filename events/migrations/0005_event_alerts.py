from django.db import migrations, models
from django.utils import timezone


def mark_existing_events_alerted(apps, schema_editor):
    # Events published before alerts existed are old news: no burst of alerts on deploy.
    Event = apps.get_model("events", "Event")
    Event.objects.filter(status="published").update(alerts_sent_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_reminders"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="alerts_sent_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(mark_existing_events_alerted, migrations.RunPython.noop),
    ]

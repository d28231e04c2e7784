import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def copy_alerts_from_events(apps, schema_editor):
    # The bookkeeping moves from events.Event.alerts_sent_at (dropped by events 0007) to here:
    # an event alerted before stays alerted, with the same time.
    Event = apps.get_model("events", "Event")
    EventAlert = apps.get_model("newsletters", "EventAlert")
    EventAlert.objects.bulk_create(
        EventAlert(event_id=pk, sent_at=sent_at)
        for pk, sent_at in Event.objects.filter(alerts_sent_at__isnull=False).values_list("pk", "alerts_sent_at")
    )


def copy_alerts_back_to_events(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    EventAlert = apps.get_model("newsletters", "EventAlert")
    for alert in EventAlert.objects.all():
        Event.objects.filter(pk=alert.event_id).update(alerts_sent_at=alert.sent_at)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0006_teams_and_erasure"),
        ("newsletters", "0002_suppression"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventAlert",
            fields=[
                (
                    "event",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="events.event",
                        verbose_name="event",
                    ),
                ),
                (
                    "sent_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="alerts written"),
                ),
            ],
            options={
                "verbose_name": "event alert",
                "verbose_name_plural": "event alerts",
            },
        ),
        migrations.RunPython(copy_alerts_from_events, copy_alerts_back_to_events),
    ]

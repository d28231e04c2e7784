from django.db import migrations


class Migration(migrations.Migration):
    # The newsletter's alert bookkeeping now lives in newsletters.EventAlert, which copied it
    # from this field first. RegistrationLog.notify was written and never read.
    dependencies = [
        ("events", "0006_teams_and_erasure"),
        ("newsletters", "0003_event_alerts"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="event",
            name="alerts_sent_at",
        ),
        migrations.RemoveField(
            model_name="registrationlog",
            name="notify",
        ),
    ]

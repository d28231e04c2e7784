from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("newsletters", "0003_event_alerts"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="next attempt"),
        ),
    ]

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0006_deferred_rendering"),
    ]

    operations = [
        migrations.CreateModel(
            name="SendingPause",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(verbose_name="refused at")),
                ("until", models.DateTimeField(verbose_name="paused until")),
                (
                    "code",
                    models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="SMTP reply code"),
                ),
                ("reason", models.TextField(blank=True, verbose_name="reason")),
            ],
            options={
                "verbose_name": "sending pause",
                "verbose_name_plural": "sending pauses",
            },
        ),
    ]

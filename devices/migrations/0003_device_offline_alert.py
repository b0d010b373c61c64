# Health polling state: when each device is polled next, and its outage and offline alert.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0001_add_device"),
        ("organizations", "0006_name_characters"),
    ]

    operations = [
        migrations.AddField(
            model_name="device",
            name="next_poll_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="next poll"),
        ),
        migrations.AddField(
            model_name="device",
            name="offline_alert_sent_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="offline alert sent"),
        ),
        migrations.AddField(
            model_name="device",
            name="offline_since",
            field=models.DateTimeField(blank=True, null=True, verbose_name="offline since"),
        ),
        migrations.AddIndex(
            model_name="device",
            index=models.Index(fields=["next_poll_at"], name="device_next_poll"),
        ),
        migrations.AddIndex(
            model_name="device",
            index=models.Index(
                condition=models.Q(
                    ("offline_alert_sent_at__isnull", True), ("offline_since__isnull", False)
                ),
                fields=["offline_since"],
                name="device_offline_alert_due",
            ),
        ),
    ]

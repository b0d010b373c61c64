"""Devices and their status history.

The last step is PostgreSQL-only, like organizations 0002/0004 (SQLite, used by `make run`, gets
none of it; the services keep the rule there): a composite foreign key keeps a device's folder in
the device's organization. It needs the unique (id, organization_id) on folders
(`folder_id_organization`).
"""

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
import uuid
from django.db import migrations, models

FORWARD = """
    ALTER TABLE devices_device
        ADD CONSTRAINT device_folder_same_organization
        FOREIGN KEY (folder_id, organization_id)
        REFERENCES organizations_folder (id, organization_id)
        DEFERRABLE INITIALLY DEFERRED
"""
BACKWARD = """
    ALTER TABLE devices_device DROP CONSTRAINT IF EXISTS device_folder_same_organization
"""


def _run(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('organizations', '0004_api_token_same_organization'),
    ]

    operations = [
        migrations.CreateModel(
            name='Device',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='device ID')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('serial_number', models.CharField(max_length=64, verbose_name='serial number')),
                ('mac_address', models.CharField(blank=True, max_length=17, verbose_name='MAC address')),
                ('product_number', models.CharField(blank=True, max_length=64, verbose_name='model')),
                ('product_name', models.CharField(blank=True, max_length=200, verbose_name='product name')),
                ('firmware_version', models.CharField(blank=True, max_length=64, verbose_name='firmware version')),
                ('hardware_id', models.CharField(blank=True, max_length=64, verbose_name='hardware ID')),
                ('architecture', models.CharField(blank=True, max_length=32, verbose_name='architecture')),
                ('has_ptz', models.BooleanField(default=False, verbose_name='has PTZ')),
                ('scheme', models.CharField(choices=[('http', 'HTTP'), ('https', 'HTTPS')], max_length=5, verbose_name='scheme')),
                ('host', models.CharField(max_length=253, verbose_name='host')),
                ('port', models.PositiveIntegerField(verbose_name='port')),
                ('username', models.CharField(max_length=64, verbose_name='user name')),
                ('encrypted_password', models.TextField(editable=False)),
                ('certificate_fingerprint', models.CharField(blank=True, max_length=64, verbose_name='certificate fingerprint')),
                ('presented_fingerprint', models.CharField(blank=True, max_length=64, verbose_name='presented certificate fingerprint')),
                ('status', models.CharField(choices=[('unknown', 'Not polled yet'), ('online', 'Online'), ('offline', 'Offline'), ('auth_failed', 'Authentication failed'), ('certificate_changed', 'Certificate changed'), ('unreachable', 'Unreachable')], default='unknown', max_length=32, verbose_name='status')),
                ('last_seen_at', models.DateTimeField(blank=True, null=True, verbose_name='last seen')),
                ('status_changed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='status since')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='onboarded at')),
                ('folder', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='devices', to='organizations.folder')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='devices', to='organizations.organization')),
            ],
            options={
                'verbose_name': 'device',
                'verbose_name_plural': 'devices',
                'ordering': ['name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='DeviceStatusChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('previous_status', models.CharField(choices=[('unknown', 'Not polled yet'), ('online', 'Online'), ('offline', 'Offline'), ('auth_failed', 'Authentication failed'), ('certificate_changed', 'Certificate changed'), ('unreachable', 'Unreachable')], max_length=32, verbose_name='previous status')),
                ('status', models.CharField(choices=[('unknown', 'Not polled yet'), ('online', 'Online'), ('offline', 'Offline'), ('auth_failed', 'Authentication failed'), ('certificate_changed', 'Certificate changed'), ('unreachable', 'Unreachable')], max_length=32, verbose_name='status')),
                ('reason', models.TextField(blank=True, max_length=1000, verbose_name='reason')),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='changed at')),
                ('device', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='status_changes', to='devices.device')),
            ],
            options={
                'verbose_name': 'device status change',
                'verbose_name_plural': 'device status changes',
                'ordering': ['-changed_at', '-id'],
            },
        ),
        migrations.AddIndex(
            model_name='device',
            index=models.Index(fields=['organization', 'status'], name='device_organization_status'),
        ),
        migrations.AddConstraint(
            model_name='device',
            constraint=models.UniqueConstraint(fields=('serial_number',), name='device_serial_number_in_one_organization', violation_error_message='This device is already in an organization. It must be removed there before it can be onboarded again.'),
        ),
        migrations.AddConstraint(
            model_name='device',
            constraint=models.CheckConstraint(condition=models.Q(('serial_number', django.db.models.functions.text.Upper('serial_number')), models.Q(('serial_number', ''), _negated=True)), name='device_serial_number_normalized'),
        ),
        migrations.AddConstraint(
            model_name='device',
            constraint=models.CheckConstraint(condition=models.Q(('port__gte', 1), ('port__lte', 65535)), name='device_port_in_range'),
        ),
        migrations.AddConstraint(
            model_name='device',
            constraint=models.CheckConstraint(condition=models.Q(('scheme__in', ['http', 'https'])), name='device_scheme_known'),
        ),
        migrations.AddIndex(
            model_name='devicestatuschange',
            index=models.Index(fields=['device', '-changed_at', '-id'], name='device_status_change_history'),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]

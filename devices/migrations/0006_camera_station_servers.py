"""Camera-station servers: servers, registration and server tokens, check-ins, releases, upgrades.

The last step is PostgreSQL-only, like 0001: a composite foreign key keeps a server's folder in
the server's organization. (Named 0004 for the merge; the coordinator renumbers.)
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models

FORWARD = """
    ALTER TABLE devices_camerastationserver
        ADD CONSTRAINT server_folder_same_organization
        FOREIGN KEY (folder_id, organization_id)
        REFERENCES organizations_folder (id, organization_id)
        DEFERRABLE INITIALLY DEFERRED
"""
BACKWARD = """
    ALTER TABLE devices_camerastationserver
        DROP CONSTRAINT IF EXISTS server_folder_same_organization
"""


def _run(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0005_add_device_import'),
        ('organizations', '0006_name_characters'),
    ]

    operations = [
        migrations.CreateModel(
            name='CameraStationServer',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, verbose_name='server ID')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('software_version', models.CharField(blank=True, max_length=32, verbose_name='software version')),
                ('reported_status', models.CharField(blank=True, max_length=64, verbose_name='reported status')),
                ('health', models.CharField(choices=[('unknown', 'Not reported yet'), ('ok', 'Healthy'), ('warning', 'Warning'), ('critical', 'Critical')], default='unknown', max_length=16, verbose_name='health')),
                ('health_messages', models.JSONField(blank=True, default=list, verbose_name='health messages')),
                ('camera_count', models.PositiveIntegerField(default=0, verbose_name='cameras')),
                ('camera_serials', models.JSONField(blank=True, default=list, verbose_name='camera serial numbers')),
                ('storage_used_bytes', models.PositiveBigIntegerField(default=0, verbose_name='storage used')),
                ('storage_total_bytes', models.PositiveBigIntegerField(default=0, verbose_name='storage total')),
                ('clock_skew_seconds', models.IntegerField(blank=True, null=True, verbose_name='clock skew')),
                ('check_in_count', models.PositiveBigIntegerField(default=0, editable=False)),
                ('last_check_in_at', models.DateTimeField(blank=True, null=True, verbose_name='last check-in')),
                ('outage_alerted_at', models.DateTimeField(blank=True, null=True, verbose_name='outage alert sent')),
                ('registered_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='registered at')),
                ('folder', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='camera_station_servers', to='organizations.folder')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='camera_station_servers', to='organizations.organization')),
            ],
            options={
                'verbose_name': 'camera-station server',
                'verbose_name_plural': 'camera-station servers',
                'ordering': ['name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ServerCheckIn',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('slot', models.PositiveIntegerField()),
                ('checked_in_at', models.DateTimeField(verbose_name='checked in at')),
                ('software_version', models.CharField(blank=True, max_length=32, verbose_name='software version')),
                ('reported_status', models.CharField(blank=True, max_length=64, verbose_name='reported status')),
                ('health', models.CharField(choices=[('unknown', 'Not reported yet'), ('ok', 'Healthy'), ('warning', 'Warning'), ('critical', 'Critical')], max_length=16, verbose_name='health')),
                ('camera_count', models.PositiveIntegerField(default=0, verbose_name='cameras')),
                ('storage_used_bytes', models.PositiveBigIntegerField(default=0, verbose_name='storage used')),
                ('storage_total_bytes', models.PositiveBigIntegerField(default=0, verbose_name='storage total')),
                ('clock_skew_seconds', models.IntegerField(blank=True, null=True, verbose_name='clock skew')),
                ('upgrade_state', models.CharField(blank=True, max_length=16, verbose_name='upgrade')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organizations.organization')),
                ('server', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='check_ins', to='devices.camerastationserver')),
            ],
            options={
                'verbose_name': 'server check-in',
                'verbose_name_plural': 'server check-ins',
                'ordering': ['-checked_in_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ServerRegistrationToken',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=80, verbose_name='name')),
                ('prefix', models.CharField(editable=False, max_length=16, unique=True)),
                ('token_hash', models.CharField(editable=False, max_length=64)),
                ('created_by', models.CharField(blank=True, max_length=254, verbose_name='created by')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('expires_at', models.DateTimeField(verbose_name='expires at')),
                ('used_at', models.DateTimeField(blank=True, null=True, verbose_name='used at')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked at')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='server_registration_tokens', to='organizations.organization')),
                ('server', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='devices.camerastationserver', verbose_name='registered server')),
                ('target_folder', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='server_registration_tokens', to='organizations.folder', verbose_name='folder')),
            ],
            options={
                'verbose_name': 'server registration token',
                'verbose_name_plural': 'server registration tokens',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='ServerRelease',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.CharField(max_length=32, unique=True, verbose_name='version')),
                ('released_on', models.DateField(verbose_name='release date')),
                ('is_recommended', models.BooleanField(default=False, help_text='Servers on an older version show “upgrade recommended”.', verbose_name='recommended')),
                ('notes', models.TextField(blank=True, max_length=2000, verbose_name='notes')),
            ],
            options={
                'verbose_name': 'server release',
                'verbose_name_plural': 'server releases',
                'ordering': ['-released_on', '-version'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('is_recommended', True)), fields=('is_recommended',), name='server_release_one_recommended', violation_error_message='Another release is already the recommended one.')],
            },
        ),
        migrations.CreateModel(
            name='ServerToken',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('prefix', models.CharField(editable=False, max_length=16, unique=True)),
                ('token_hash', models.CharField(editable=False, max_length=64)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked at')),
                ('revoked_because', models.CharField(blank=True, choices=[('revoked', 'Revoked by an admin'), ('server_removed', 'Server removed')], max_length=16)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='server_tokens', to='organizations.organization')),
                ('server', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='tokens', to='devices.camerastationserver')),
            ],
            options={
                'verbose_name': 'server token',
                'verbose_name_plural': 'server tokens',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='ServerUpgrade',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('from_version', models.CharField(blank=True, max_length=32, verbose_name='from version')),
                ('target_version', models.CharField(max_length=32, verbose_name='target version')),
                ('state', models.CharField(choices=[('queued', 'Queued'), ('picked_up', 'Picked up'), ('installing', 'Installing'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled'), ('timed_out', 'Failed: timed out')], default='queued', max_length=16, verbose_name='state')),
                ('reason', models.TextField(blank=True, max_length=1000, verbose_name='reason')),
                ('requested_by', models.CharField(blank=True, max_length=254, verbose_name='requested by')),
                ('queued_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='queued at')),
                ('picked_up_at', models.DateTimeField(blank=True, null=True, verbose_name='picked up at')),
                ('installing_at', models.DateTimeField(blank=True, null=True, verbose_name='installing since')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organizations.organization')),
                ('release', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='upgrades', to='devices.serverrelease', verbose_name='release')),
                ('server', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='upgrades', to='devices.camerastationserver')),
            ],
            options={
                'verbose_name': 'server upgrade',
                'verbose_name_plural': 'server upgrades',
                'ordering': ['-queued_at', '-id'],
            },
        ),
        migrations.AddIndex(
            model_name='camerastationserver',
            index=models.Index(fields=['last_check_in_at'], name='server_last_check_in'),
        ),
        migrations.AddConstraint(
            model_name='camerastationserver',
            constraint=models.CheckConstraint(condition=models.Q(('storage_used_bytes__lte', models.F('storage_total_bytes')), ('storage_total_bytes', 0), _connector='OR'), name='server_storage_used_within_total'),
        ),
        migrations.AddConstraint(
            model_name='servercheckin',
            constraint=models.UniqueConstraint(fields=('server', 'slot'), name='server_check_in_slot'),
        ),
        migrations.AddConstraint(
            model_name='serverupgrade',
            constraint=models.UniqueConstraint(condition=models.Q(('state__in', ['queued', 'picked_up', 'installing'])), fields=('server',), name='server_upgrade_one_active', violation_error_message='This server already has an upgrade under way.'),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]

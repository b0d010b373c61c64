"""The device list's search through a trigram index (PostgreSQL only, like 0001 and 0006).

`pg_trgm` answers `LIKE '%term%'` from a GIN index. One index over the five searched columns
joined (`devices.filters.SEARCH_TEXT`, upper-cased as Django's `icontains` writes it) rather
than five: each poll rewrites the device's row, and every index on the table is written again
with it. The expression must stay the one the filter sends, or PostgreSQL no longer uses the
index (tests/devices/test_list_search_index.py checks the plan). SQLite (`make run`) gets
neither the extension nor the index; the search reads the same there, only slower.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

FORWARD = """
    CREATE INDEX device_search_trigram ON devices_device USING gin (
        UPPER((name || ' ' || serial_number || ' ' || product_number || ' ' || product_name
               || ' ' || host)::text) gin_trgm_ops
    )
"""
BACKWARD = "DROP INDEX IF EXISTS device_search_trigram"


def _run(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0006_camera_station_servers"),
    ]

    operations = [
        # A no-op on other databases; pg_trgm is a trusted extension (PostgreSQL 13+), so the
        # database's owner may create it without being a superuser.
        TrigramExtension(),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]

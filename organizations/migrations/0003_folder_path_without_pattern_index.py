"""Folder.path: drop the pattern index on `path` alone that `db_index=True` adds on PostgreSQL.

Subtree queries always filter by organization, and the planner chose this smaller index over
`folder_organization_path_prefix` (0002), paying planning time for both on every visibility
query. `path` keeps a plain index for equality.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0002_postgresql_integrity"),
    ]

    operations = [
        migrations.AlterField(
            model_name="folder",
            name="path",
            field=models.CharField(editable=False, max_length=2048),
        ),
        migrations.AddIndex(
            model_name="folder",
            index=models.Index(fields=["path"], name="folder_path"),
        ),
    ]

"""An API token's organization is its membership's (DESIGN.md §2: composite constraints).

The composite foreign key is PostgreSQL-only, like 0002; the services keep the rule elsewhere.
"""

from django.db import migrations, models

FORWARD = """
    ALTER TABLE organizations_apitoken
        ADD CONSTRAINT api_token_membership_same_organization
        FOREIGN KEY (membership_id, organization_id)
        REFERENCES organizations_membership (id, organization_id)
        DEFERRABLE INITIALLY DEFERRED
"""
BACKWARD = """
    ALTER TABLE organizations_apitoken
        DROP CONSTRAINT IF EXISTS api_token_membership_same_organization
"""


def _run(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("organizations", "0003_folder_path_without_pattern_index")]

    operations = [
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.UniqueConstraint(
                fields=("id", "organization"), name="membership_id_organization"
            ),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]

"""PostgreSQL-only integrity: append-only audit, same-organization parents, subtree prefix index.

SQLite (used by `make run`) gets none of this; the services keep the same rules there.
"""

from django.db import migrations

FORWARD = [
    # Audit events are append-only: refuse UPDATE and DELETE on every row.
    """
    CREATE OR REPLACE FUNCTION organizations_auditevent_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER organizations_auditevent_append_only
        BEFORE UPDATE OR DELETE ON organizations_auditevent
        FOR EACH ROW EXECUTE FUNCTION organizations_auditevent_append_only()
    """,
    # A folder's parent is in the same organization (needs the unique (id, organization_id)).
    """
    ALTER TABLE organizations_folder
        ADD CONSTRAINT folder_parent_same_organization
        FOREIGN KEY (parent_id, organization_id)
        REFERENCES organizations_folder (id, organization_id)
        DEFERRABLE INITIALLY DEFERRED
    """,
    # Subtree queries are `organization_id = … AND path LIKE '<prefix>%'`.
    """
    CREATE INDEX folder_organization_path_prefix
        ON organizations_folder (organization_id, path text_pattern_ops)
    """,
]

BACKWARD = [
    "DROP INDEX IF EXISTS folder_organization_path_prefix",
    "ALTER TABLE organizations_folder DROP CONSTRAINT IF EXISTS folder_parent_same_organization",
    "DROP TRIGGER IF EXISTS organizations_auditevent_append_only ON organizations_auditevent",
    "DROP FUNCTION IF EXISTS organizations_auditevent_append_only()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("organizations", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]

"""PostgreSQL-only integrity of the ledger, beyond what Django declares.

- Ledger transactions and entries are append-only: UPDATE and DELETE are refused.
- The entries of a transaction sum to zero: a deferred constraint trigger checks it at commit,
  so a transaction's entries may be inserted one by one, but never left unbalanced.
- A redeemed key stays redeemed: its redemption fields never change again.

SQLite (used by `make run`) gets none of this; `licensing.ledger.post` keeps the same rules.
"""

from django.db import migrations

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION licensing_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER licensing_ledgertransaction_append_only
        BEFORE UPDATE OR DELETE ON licensing_ledgertransaction
        FOR EACH ROW EXECUTE FUNCTION licensing_append_only()
    """,
    """
    CREATE TRIGGER licensing_ledgerentry_append_only
        BEFORE UPDATE OR DELETE ON licensing_ledgerentry
        FOR EACH ROW EXECUTE FUNCTION licensing_append_only()
    """,
    """
    CREATE OR REPLACE FUNCTION licensing_transaction_balanced() RETURNS trigger AS $$
    DECLARE
        total bigint;
    BEGIN
        SELECT COALESCE(SUM(amount), 0) INTO total
            FROM licensing_ledgerentry WHERE transaction_id = NEW.transaction_id;
        IF total <> 0 THEN
            RAISE EXCEPTION 'ledger transaction % does not balance (sum %)',
                NEW.transaction_id, total USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE CONSTRAINT TRIGGER licensing_ledgerentry_balanced
        AFTER INSERT ON licensing_ledgerentry
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION licensing_transaction_balanced()
    """,
    """
    CREATE OR REPLACE FUNCTION licensing_licensekey_redeemed_once() RETURNS trigger AS $$
    BEGIN
        IF OLD.redeemed_at IS NOT NULL AND (
            NEW.redeemed_at IS DISTINCT FROM OLD.redeemed_at
            OR NEW.redeemed_by_organization_id IS DISTINCT FROM OLD.redeemed_by_organization_id
        ) THEN
            RAISE EXCEPTION 'license key % was redeemed already', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER licensing_licensekey_redeemed_once
        BEFORE UPDATE ON licensing_licensekey
        FOR EACH ROW EXECUTE FUNCTION licensing_licensekey_redeemed_once()
    """,
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS licensing_licensekey_redeemed_once ON licensing_licensekey",
    "DROP FUNCTION IF EXISTS licensing_licensekey_redeemed_once()",
    "DROP TRIGGER IF EXISTS licensing_ledgerentry_balanced ON licensing_ledgerentry",
    "DROP FUNCTION IF EXISTS licensing_transaction_balanced()",
    "DROP TRIGGER IF EXISTS licensing_ledgerentry_append_only ON licensing_ledgerentry",
    "DROP TRIGGER IF EXISTS licensing_ledgertransaction_append_only ON licensing_ledgertransaction",
    "DROP FUNCTION IF EXISTS licensing_append_only()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("licensing", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]

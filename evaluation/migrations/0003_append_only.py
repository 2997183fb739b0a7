"""The audit tables are append-only in the database itself: a trigger refuses every UPDATE
and DELETE, bulk ones included. TRUNCATE (test flushes) is left alone. PostgreSQL only."""

from django.db import migrations

AUDIT_TABLES = [
    "evaluation_transitionlog",
    "evaluation_scorechange",
    "evaluation_publishedresult",
    "cadres_auditentry",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION cadreval_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'cadreval: % is append-only, % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'An audit row is never changed or removed: write a new row instead.';
END
$$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # the %s of RAISE are not parameters
    for table in AUDIT_TABLES:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS append_only ON "{table}"')
        schema_editor.execute(
            f'CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION cadreval_append_only()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in AUDIT_TABLES:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS append_only ON "{table}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS cadreval_append_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("cadres", "0002_api_tokens"),
        ("evaluation", "0002_jobs"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

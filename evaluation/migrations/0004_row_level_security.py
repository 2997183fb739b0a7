"""Row-level security on every table with a tenant_id column (cadres.rls): a second wall
behind the tenant filters of the code. PostgreSQL only; ENABLE, not FORCE, so the owner
(migrations, management commands) is not affected. Tables added later get the policy from
their own migration (``cadres.rls.install``) or from ``manage.py create_app_role``."""

from django.db import migrations

from cadres import rls


def forwards(apps, schema_editor):
    rls.install(schema_editor.connection, rls.tenant_tables(apps))


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in rls.tenant_tables(apps):
            rls.disable_rls(cursor, table)
        cursor.execute(rls.DROP_FUNCTIONS_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("cadres", "0003_security"),
        ("evaluation", "0003_append_only"),
        # Its exports table is tenant-owned too; it depends on cadres only (no cycle).
        ("reporting", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]

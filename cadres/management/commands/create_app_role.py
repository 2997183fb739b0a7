"""Create the database role the application runs as, under row-level security.

Run it as the owner of the tables (the role that runs ``migrate``), after each migrate:

    python manage.py create_app_role                 # role cadreval_app, NOLOGIN
    python manage.py create_app_role --role web --login --password-env APP_DB_PASSWORD

Then run the web and worker processes with ``DATABASE_APP_ROLE=cadreval_app`` (each
connection does ``SET ROLE``), or with a ``DATABASE_URL`` that logs in as a LOGIN role.
"""

import os

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import sql

from cadres import rls

DEFAULT_ROLE = "cadreval_app"
AUDIT_TABLES = [
    "evaluation_transitionlog",
    "evaluation_scorechange",
    "evaluation_publishedresult",
    "cadres_auditentry",
]


class Command(BaseCommand):
    help = (
        "Create or update the role that the application connects as: it may read and write "
        "the tables but neither owns them nor bypasses row-level security."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", default=DEFAULT_ROLE)
        parser.add_argument("--login", action="store_true", help="a LOGIN role (own DSN)")
        parser.add_argument(
            "--password-env", help="environment variable holding the LOGIN role's password"
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, role, login, password_env, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("Row-level security needs PostgreSQL.")
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"The variable {password_env} is empty.")
        tables = rls.tenant_tables(apps)
        with transaction.atomic(using=database), connection.cursor() as cursor:
            added = app_role_create(
                cursor, role=role, login=login, password=password, tenant_tables=tables
            )
        self.stdout.write(f"Role {role} ready; row-level security on {len(tables)} tables.")
        if added:
            self.stdout.write("Policy added to: " + ", ".join(added))


def app_role_create(cursor, *, role: str, login=False, password=None, tenant_tables=()):
    """Create or update ``role`` (idempotent), grant it the data and put RLS on the tables."""
    name = sql.Identifier(role)
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is None:
        cursor.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(name))
    elif row[0] or row[1]:
        raise CommandError(f"The role {role} is a superuser or bypasses RLS: choose another.")
    cursor.execute(
        sql.SQL("ALTER ROLE {} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE {} {}").format(
            name,
            sql.SQL("LOGIN" if login else "NOLOGIN"),
            sql.SQL("PASSWORD {}").format(sql.Literal(password)) if password else sql.SQL(""),
        )
    )
    cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = %s", [role])
    if cursor.fetchone()[0]:
        raise CommandError(f"The role {role} owns tables: RLS would not apply to it.")
    # SET ROLE needs the connecting role to be a member (a superuser is one already).
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if not cursor.fetchone()[0]:
        cursor.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(name))
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name))
    cursor.execute(
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            name
        )
    )
    cursor.execute(
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name)
    )
    # Tables the owner creates later (new migrations) are granted at once.
    cursor.execute(
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(name)
    )
    cursor.execute(
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}"
        ).format(name)
    )
    # The audit tables are append-only (a trigger says so too): no UPDATE or DELETE at all.
    for table in AUDIT_TABLES:
        cursor.execute(
            sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), name)
        )
    # The policy on every tenant table known now, in case a later migration forgot one.
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid "
        "WHERE c.relrowsecurity AND p.polname = %s",
        [rls.POLICY],
    )
    protected = {row[0] for row in cursor.fetchall()}
    missing = [table for table in tenant_tables if table not in protected]
    if missing:
        cursor.execute(rls.FUNCTIONS_SQL)
        for table in missing:
            rls.enable_rls(cursor, table)
    return missing

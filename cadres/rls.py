"""PostgreSQL row-level security: the tenant a connection may see, and the policies.

Every table with a ``tenant_id`` column carries a policy that shows a row only when its
tenant is the one set in the connection's ``app.tenant_id``, or when that setting is ``*``
(system jobs, superusers and the central organisation commission, which read across
tenants). An empty or missing setting shows nothing. The policies bind only a role that
neither owns the tables nor bypasses RLS (``manage.py create_app_role``); the owner that
runs migrations and management commands is not affected.

The setting is session-level (``set_config(..., false)``): Django runs in autocommit, so a
transaction-local value would vanish after the first statement. Whoever sets it restores the
previous value afterwards (:func:`tenant_scope`), so a pooled connection never carries one
request's tenant into the next.
"""

import threading
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

SETTING = "app.tenant_id"
ALL_TENANTS = "*"
NO_TENANT = ""
POLICY = "tenant_isolation"

# Tables with a tenant_id column that stay outside the wall: accounts are read to sign in,
# before any tenant is known (a central observer's account has no tenant at all).
EXEMPT_TABLES = frozenset({"cadres_user"})

# The policy compares a bigint with a bigint so that the tenant_id indexes serve it, and
# never casts '*' or garbage (SQL does not promise the order in which OR is evaluated).
FUNCTIONS_SQL = f"""
CREATE OR REPLACE FUNCTION app_current_tenant() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN current_setting('{SETTING}', true) ~ '^[0-9]{{1,18}}$'
              THEN current_setting('{SETTING}', true)::bigint END
$$;
CREATE OR REPLACE FUNCTION app_all_tenants() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(current_setting('{SETTING}', true), '') = '{ALL_TENANTS}'
$$;
"""
DROP_FUNCTIONS_SQL = """
DROP FUNCTION IF EXISTS app_current_tenant();
DROP FUNCTION IF EXISTS app_all_tenants();
"""


def tenant_tables(apps) -> list[str]:
    """Tables of the registry (live or historical) that have a ``tenant_id`` column."""
    tables = set()
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in EXEMPT_TABLES:
            continue
        if any(getattr(field, "column", None) == "tenant_id" for field in meta.local_fields):
            tables.add(meta.db_table)
    return sorted(tables)


# Each function is a scalar subquery, so PostgreSQL computes it once a statement (an InitPlan)
# rather than once a row: the tenant's setting is matched against its pattern once, not for
# each of the 500 evaluations of a board and each of their cadres.
POLICY_USING = "(SELECT app_all_tenants()) OR tenant_id = (SELECT app_current_tenant())"


def enable_rls(cursor, table: str, using: str = POLICY_USING) -> None:
    """Put the tenant policy on one table (idempotent). ENABLE, not FORCE: the owner passes."""
    quoted = f'"{table}"'
    cursor.execute(f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY")
    cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {quoted}")
    cursor.execute(f"CREATE POLICY {POLICY} ON {quoted} USING ({using})")


def disable_rls(cursor, table: str) -> None:
    quoted = f'"{table}"'
    cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {quoted}")
    cursor.execute(f"ALTER TABLE {quoted} DISABLE ROW LEVEL SECURITY")


def install(connection, tables) -> None:
    """The functions and the policy on every given table; PostgreSQL only (a no-op else)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(FUNCTIONS_SQL)
        for table in tables:
            enable_rls(cursor, table)


def is_enabled(using: str = DEFAULT_DB_ALIAS) -> bool:
    return getattr(settings, "TENANT_RLS", False) and connections[using].vendor == "postgresql"


def scope_for(user) -> str:
    """What ``app.tenant_id`` a user's requests run with."""
    if user is None or not user.is_authenticated:
        return NO_TENANT
    if user.tenant_id:
        return str(user.tenant_id)
    if user.is_superuser or getattr(user, "is_central_observer", False):
        return ALL_TENANTS
    return NO_TENANT


def current(using: str = DEFAULT_DB_ALIAS) -> str:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [SETTING])
        return cursor.fetchone()[0] or NO_TENANT


def set_scope(value, using: str = DEFAULT_DB_ALIAS) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, str(value or NO_TENANT)])


def _swap(value, using: str) -> str:
    """Set the scope and return the one it replaces, in one round trip (every request does it:
    the materialized CTE reads the old value before the outer query sets the new one)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "WITH previous AS MATERIALIZED (SELECT current_setting(%s, true) AS value) "
            "SELECT previous.value, set_config(%s, %s, false) FROM previous",
            [SETTING, SETTING, str(value or NO_TENANT)],
        )
        return cursor.fetchone()[0] or NO_TENANT


def _restore(previous: str, using: str) -> None:
    try:
        set_scope(previous, using)
    except DatabaseError:
        # A broken connection must not be reused with a scope it cannot reset; a connection
        # inside a failed transaction gets the previous value back on rollback anyway.
        connection = connections[using]
        if not connection.in_atomic_block:
            connection.close()


@contextmanager
def tenant_scope(value, using: str = DEFAULT_DB_ALIAS):
    """Run the block as one tenant (its id), as every tenant (``ALL_TENANTS``) or as none.

    A no-op unless ``TENANT_RLS`` is on and the database is PostgreSQL.
    """
    if not is_enabled(using):
        yield
        return
    previous = _swap(value, using)
    try:
        yield
    finally:
        _restore(previous, using)


# --- Celery: a task given a ``tenant_id`` (evaluation.tasks) runs as that tenant; any other
# task (the calendar, the outbox sweeper, exports by id) runs across tenants, unless an eager
# task inherits a request's scope. The previous scope is restored after each task.
_task_scopes = threading.local()


def _task_prerun(sender=None, task_id=None, task=None, args=None, kwargs=None, **extra) -> None:
    stack = _task_scopes.__dict__.setdefault("stack", [])
    if not is_enabled():
        stack.append(None)
        return
    previous = current()
    stack.append(previous)
    tenant_id = (kwargs or {}).get("tenant_id")
    if tenant_id:
        set_scope(int(tenant_id))
    elif previous == NO_TENANT:
        set_scope(ALL_TENANTS)


def _task_postrun(**kwargs) -> None:
    stack = _task_scopes.__dict__.setdefault("stack", [])
    previous = stack.pop() if stack else None
    if previous is not None and is_enabled():
        _restore(previous, DEFAULT_DB_ALIAS)


def install_celery_hooks() -> None:
    """Connect the task scope to Celery's signals; called once from config/celery.py."""
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="cadres.rls.prerun")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="cadres.rls.postrun")

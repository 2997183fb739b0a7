"""Row-level security, the second wall: as the application's role, SQL sees only the rows
of the tenant set in the connection, nothing without one, and every tenant with '*'."""

from contextlib import contextmanager

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from cadres import rls
from cadres.management.commands.create_app_role import app_role_create
from cadres.models import Cadre, TenantSecurity
from cadres.security import SESSION_TOTP
from config.compiled_query import CompiledQuery
from tests.security.conftest import api_token, browser
from tests.security.world import PRIVATE_MARKER, TENANT_MARKER

ROLE = "cadreval_app_test"

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_role(db):
    """The application's role, created inside the test's transaction (rolled back after)."""
    with connection.cursor() as cursor:
        app_role_create(cursor, role=ROLE, tenant_tables=rls.tenant_tables(apps))
    return ROLE


@contextmanager
def as_role(role):
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def scalar(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_every_tenant_table_has_the_policy(db):
    tables = rls.tenant_tables(apps)
    assert {"cadres_cadre", "evaluation_evaluation", "reporting_export"} <= set(tables)
    assert "cadres_user" not in tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid "
            "WHERE c.relrowsecurity AND NOT c.relforcerowsecurity AND p.polname = %s",
            [rls.POLICY],
        )
        protected = {row[0] for row in cursor.fetchall()}
    assert protected == set(tables)


def test_raw_sql_as_the_app_role_sees_only_its_tenant(world, app_role):
    a, b = world.tenant.pk, world.other_tenant.pk
    a_cadres = Cadre.objects.filter(tenant_id=a).count()
    assert a_cadres and Cadre.objects.filter(tenant_id=b).exists()
    tables = rls.tenant_tables(apps)
    with as_role(app_role):
        rls.set_scope(a)
        assert scalar("SELECT count(*) FROM cadres_cadre") == a_cadres
        for table in tables:
            assert scalar(f'SELECT count(*) FROM "{table}" WHERE tenant_id <> %s', [a]) == 0
        assert scalar("SELECT count(*) FROM cadres_cadre WHERE full_name LIKE %s", ["ZZ-%"])

        rls.set_scope(b)
        assert scalar("SELECT count(*) FROM cadres_cadre WHERE tenant_id = %s", [a]) == 0

        for empty in ("", "garbage", "1; DROP TABLE cadres_cadre"):
            rls.set_scope(empty)
            for table in tables:
                assert scalar(f'SELECT count(*) FROM "{table}"') == 0, (empty, table)

        rls.set_scope(rls.ALL_TENANTS)
        assert scalar("SELECT count(DISTINCT tenant_id) FROM cadres_cadre") == 2
        rls.set_scope("")


def test_the_policy_reads_the_tenant_once_a_statement_not_once_a_row(world, app_role):
    a = world.tenant.pk
    with as_role(app_role):
        rls.set_scope(a)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (COSTS OFF) SELECT full_name FROM cadres_cadre")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        rls.set_scope("")
    assert "InitPlan" in plan
    assert "current_setting" not in plan.split("Filter:")[-1]  # no pattern match per row


def test_a_prepared_read_answers_for_the_role_and_tenant_of_each_call(world, app_role):
    """A compiled read is prepared once a connection (config/compiled_query.py): its plan,
    cached after a few runs, never carries one tenant's rows, or the owner's view, to another."""
    a, b = world.tenant.pk, world.other_tenant.pk
    tenants_seen = CompiledQuery(
        lambda above: Cadre.objects.filter(pk__gt=above).values_list("tenant_id").distinct()
    )

    def seen():
        return {row[0] for row in tenants_seen.rows(above=0)}

    assert seen() >= {a, b}  # the owner, prepared before the role is taken
    with as_role(app_role):
        for _ in range(3):  # PostgreSQL may switch to a cached generic plan after five runs
            rls.set_scope(a)
            assert seen() == {a}
            rls.set_scope(b)
            assert seen() == {b}
            rls.set_scope("")
            assert seen() == set()
        rls.set_scope(rls.ALL_TENANTS)
        assert seen() >= {a, b}
        rls.set_scope("")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'cadres_cadre_read_%%'"
        )
        assert cursor.fetchone()[0] >= 1


def test_the_app_role_cannot_write_into_another_tenant(world, app_role):
    a, b = world.tenant.pk, world.other_tenant.pk
    cadre = Cadre.objects.filter(tenant_id=b).first()
    with as_role(app_role):
        rls.set_scope(a)
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO cadres_cadre (tenant_id, code, full_name, date_of_birth, "
                    "party_post, government_post, mass_organisation_post, evaluation_mode, "
                    "is_active) VALUES (%s, 'X1', 'Kẻ lạ', NULL, '', '', '', 'quarterly', true)",
                    [b],
                )
        # Another tenant's rows cannot be changed: they are not even there to update.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cadres_cadre SET full_name = 'x' WHERE id = %s", [cadre.pk])
            assert cursor.rowcount == 0
        rls.set_scope("")
    cadre.refresh_from_db()
    assert cadre.full_name == "Cán bộ Tỉnh Khác"


def test_create_app_role_grants_data_but_no_audit_rewrite(db):
    call_command("create_app_role", "--role", "cadreval_app_cmd", stdout=open("/dev/null", "w"))
    role = scalar(
        "SELECT row(rolsuper, rolbypassrls, rolcanlogin)::text FROM pg_roles WHERE rolname = %s",
        ["cadreval_app_cmd"],
    )
    assert role == "(f,f,f)"

    def may(table, privilege):
        return scalar(
            "SELECT has_table_privilege(%s, %s, %s)", ["cadreval_app_cmd", table, privilege]
        )

    assert may("evaluation_evaluation", "UPDATE") and may("evaluation_evaluation", "DELETE")
    assert may("evaluation_transitionlog", "INSERT") and may("evaluation_transitionlog", "SELECT")
    assert not may("evaluation_transitionlog", "UPDATE")
    assert not may("cadres_auditentry", "DELETE")
    assert not may("evaluation_evaluation", "TRUNCATE")


@override_settings(TENANT_RLS=True)
def test_pages_and_api_run_as_the_users_tenant_through_the_middleware(world, app_role):
    evaluation = world.objects["evaluation"]
    system_a, system_b = api_token(world.authority), api_token(world.stranger)
    with as_role(app_role):
        page = browser(world.authority).get(f"/evaluations/{evaluation.pk}/")
        assert page.status_code == 200
        assert PRIVATE_MARKER in page.content.decode()
        assert rls.current() == ""  # the scope does not outlive the request

        refused = browser(world.stranger).get(f"/evaluations/{evaluation.pk}/")
        assert refused.status_code == 404
        assert TENANT_MARKER not in refused.content.decode()

        listed = system_a.get("/api/cadres/?page_size=100")
        assert listed.status_code == 200
        names = [row["full_name"] for row in listed.json()["results"]]
        assert names and all(TENANT_MARKER in name for name in names)
        assert rls.current() == ""

        foreign = system_b.get("/api/cadres/?page_size=100")
        assert TENANT_MARKER not in foreign.content.decode()


@override_settings(TENANT_RLS=True)
def test_a_cadre_reads_their_own_quarter_as_the_app_role(world, app_role):
    """The account is read before the request's tenant is set: what is read with it must not
    sit behind the wall (a cadre read there would be missing, and their own pages refused)."""
    cadre = world.members[1]
    with as_role(app_role):
        page = browser(cadre.user).get("/my/")
        assert page.status_code == 200
        assert cadre.full_name in page.content.decode()
        assert rls.current() == ""


@override_settings(TENANT_RLS=True)
def test_signing_in_reads_the_tenants_totp_rule_through_the_wall(world, app_role):
    TenantSecurity.objects.create(tenant=world.tenant, require_totp=True)
    world.authority.set_password("matkhau-Thu-123")
    world.authority.save()
    with as_role(app_role):
        client = browser()
        response = client.post(
            "/accounts/login/",
            {"username": world.authority.username, "password": "matkhau-Thu-123"},
        )
        assert response.status_code == 302
        assert client.session[SESSION_TOTP] is True
        assert rls.current() == ""


@override_settings(TENANT_RLS=True)
def test_a_task_runs_as_its_tenant_a_system_task_across_tenants(world, app_role):
    a = world.tenant.pk
    with as_role(app_role):
        rls.set_scope("")
        rls._task_prerun(kwargs={"tenant_id": a, "period_id": 1})
        assert rls.current() == str(a)
        assert scalar("SELECT count(DISTINCT tenant_id) FROM cadres_cadre") == 1
        rls._task_postrun()
        assert rls.current() == ""

        rls._task_prerun(kwargs={})
        assert rls.current() == rls.ALL_TENANTS
        assert scalar("SELECT count(DISTINCT tenant_id) FROM cadres_cadre") == 2
        rls._task_postrun()
        assert rls.current() == ""

        with rls.tenant_scope(a):  # an eager task inside a request keeps the request's scope
            rls._task_prerun(kwargs={})
            assert rls.current() == str(a)
            rls._task_postrun()
            assert rls.current() == str(a)
        assert rls.current() == ""


@override_settings(TENANT_RLS=True)
def test_a_real_task_finds_its_tenants_rows_through_the_hooks(world, app_role):
    from celery.signals import task_postrun, task_prerun

    from evaluation import tasks
    from evaluation.models import Job

    def run_job():
        job = Job.objects.create(
            tenant=world.tenant, kind="check_quotas", params={"period_id": world.period.pk}
        )
        with as_role(app_role):
            rls.set_scope("")
            tasks.check_quotas.apply(
                kwargs={
                    "tenant_id": world.tenant.pk,
                    "period_id": world.period.pk,
                    "job_id": job.pk,
                }
            )
            assert rls.current() == ""
        job.refresh_from_db()
        return job.status

    # config/celery.py installs the hooks; without them the worker's connection sees no row
    # and the job is not even claimed.
    task_prerun.disconnect(dispatch_uid="cadres.rls.prerun")
    task_postrun.disconnect(dispatch_uid="cadres.rls.postrun")
    try:
        assert run_job() == Job.Status.PENDING
    finally:
        rls.install_celery_hooks()
    assert run_job() == Job.Status.DONE


@override_settings(TENANT_RLS=True)
def test_a_token_call_reads_its_token_once_and_swaps_the_scope_in_one_query(world, app_role):
    system = api_token(world.authority)
    with as_role(app_role):
        rls.set_scope("")
        with CaptureQueriesContext(connection) as captured:
            answer = system.get("/api/cadres/?page_size=1")
        assert answer.status_code == 200
        sql = [query["sql"] for query in captured.captured_queries]
        # The middleware's read (a prepared read is named after its table).
        reads = (
            'FROM "cadres_apitoken"' in q or q.startswith("EXECUTE cadres_apitoken_") for q in sql
        )
        assert sum(reads) == 1
        swaps = [q for q in sql if "set_config" in q]
        assert len(swaps) == 2  # in (returning the scope it replaced), then back out
        assert "current_setting" in swaps[0]
        assert not any("current_setting" in q and "set_config" not in q for q in sql)
        assert rls.current() == ""
        # The swap hands back what was there: nested scopes restore their outer one.
        with rls.tenant_scope(world.tenant.pk):
            with rls.tenant_scope(rls.ALL_TENANTS):
                assert rls.current() == rls.ALL_TENANTS
            assert rls.current() == str(world.tenant.pk)
        assert rls.current() == ""

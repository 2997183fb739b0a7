"""The scale generator (evaluation.scale) at a small size: deterministic, and true to the rules."""

from collections import Counter
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Count, Max

from cadres.models import Cadre, Tenant, Unit, UnitUserPermission, User
from cadres.roles import Role, covers
from evaluation import rules, scoring
from evaluation.models import (
    Collective,
    CriterionScore,
    Discrepancy,
    Evaluation,
    EvaluationState,
    Period,
    PublishedResult,
    QuotaGroup,
    Task,
    TransitionLog,
)
from evaluation.scale import scale_fingerprint, scale_generate, verify_references

CADRES, UNITS = 300, 30
pytestmark = pytest.mark.django_db


@pytest.fixture
def small(db):
    return scale_generate(cadres=CADRES, units=UNITS, seed=1, tenant_code="scale-a")


def test_same_seed_same_tenant_other_seed_other_tenant(small):
    again = scale_generate(cadres=CADRES, units=UNITS, seed=1, tenant_code="scale-b")
    other = scale_generate(cadres=CADRES, units=UNITS, seed=2, tenant_code="scale-c")

    assert scale_fingerprint(small.tenant) == scale_fingerprint(again.tenant)
    assert scale_fingerprint(small.tenant) != scale_fingerprint(other.tenant)
    assert small.counts == again.counts
    assert small.states == again.states


def test_counts_tree_and_accounts(small):
    tenant = small.tenant
    units = Unit.objects.filter(tenant=tenant)

    assert units.count() == UNITS
    assert Cadre.objects.filter(tenant=tenant).count() == CADRES
    # Four or five levels: the deepest unit is at depth 3 or 4, and some branches stop earlier.
    assert units.aggregate(deepest=Max("depth"))["deepest"] in (3, 4)
    depths = Counter(units.values_list("depth", flat=True))
    assert depths[0] == 1 and all(depths[d] > 0 for d in range(1, 5))
    assert all(unit.path.startswith(unit.parent.path) for unit in units.exclude(parent=None))
    # Every cadre can sign in; a superior on every unit, the other roles on the root.
    assert Cadre.objects.filter(tenant=tenant, user__isnull=True).count() == 0
    grants = UnitUserPermission.objects.filter(content_object__tenant=tenant)
    superiors = grants.filter(permission__codename=Role.SUPERIOR.value)
    assert superiors.values("content_object").distinct().count() == UNITS
    for role in Role:
        assert grants.filter(permission__codename=role.value, content_object__parent=None).exists()
    organisation = User.objects.get(username=small.accounts["organisation"])
    assert organisation.check_password(small.password)
    root = units.get(parent=None)
    assert covers(organisation, Role.ORGANISATION, root)
    # The named units of the benchmarks.
    big = units.get(pk=small.units["big_group_unit"])
    inbox = units.get(pk=small.units["inbox_unit"])
    assert (big.code, inbox.code) == ("B500", "B200")
    assert not units.filter(parent=inbox).exists()
    superior = User.objects.get(username=small.accounts["superior_of_inbox_unit"])
    assert covers(superior, Role.SUPERIOR, inbox)


def test_a_year_in_every_state_with_eight_tasks_each(small):
    tenant = small.tenant
    evaluations = Evaluation.objects.filter(tenant=tenant)
    periods = Period.objects.filter(tenant=tenant).order_by("quarter")

    assert [(p.quarter, p.status) for p in periods] == [
        (1, "closed"),
        (2, "closed"),
        (3, "open"),
        (4, "open"),
    ]
    assert set(evaluations.values_list("state", flat=True)) == set(EvaluationState.values)
    assert all(p.opened_at is not None for p in periods)
    # Eight tasks for each evaluation, carried-over ones included; four criteria each.
    per_evaluation = Counter(
        dict(Task.objects.filter(tenant=tenant).values_list("evaluation").annotate(n=Count("pk")))
    )
    assert len(per_evaluation) == evaluations.count()
    assert set(per_evaluation.values()) == {8}
    assert Task.objects.filter(tenant=tenant, carried_over_from__isnull=False).exists()
    assert CriterionScore.objects.filter(tenant=tenant).count() == 4 * evaluations.count()
    # R18: committee members graded yearly have a Q4 evaluation only.
    yearly = Cadre.objects.filter(tenant=tenant, evaluation_mode="yearly")
    assert set(evaluations.filter(cadre__in=yearly).values_list("period__quarter", flat=True)) <= {
        4
    }
    # One log row per step taken; published ones carry their record.
    published = evaluations.filter(state=EvaluationState.PUBLISHED)
    assert PublishedResult.objects.filter(tenant=tenant).count() == published.count()
    sample = published.order_by("cadre__code").first()
    assert list(
        TransitionLog.objects.filter(evaluation=sample).values_list("to_state", flat=True)
    ) == [
        "plan_submitted",
        "plan_approved",
        "self_assessed",
        "vetted",
        "proposed",
        "decided",
        "published",
    ]


def test_grades_are_those_of_the_rules(small):
    tenant = small.tenant
    graded = Evaluation.objects.filter(
        tenant=tenant,
        state__in=[
            EvaluationState.SELF_ASSESSED,
            EvaluationState.VETTED,
            EvaluationState.PROPOSED,
            EvaluationState.DECIDED,
            EvaluationState.PUBLISHED,
        ],
    ).select_related("tenant", "period", "unit", "cadre")
    assert graded.count() > CADRES
    for evaluation in graded.order_by("pk")[::7]:
        stage = (
            scoring.Stage.SELF
            if evaluation.state == EvaluationState.SELF_ASSESSED
            else scoring.Stage.VETTED
        )
        with_rules = scoring.assess(evaluation, stage=stage)
        assert (evaluation.computed_score, evaluation.computed_grade) == (
            with_rules.score,
            with_rules.grade,
        ), evaluation.pk
        if evaluation.decided_grade:
            # The authority never decides above what the rules allow (R5–R8).
            assert rules.Grade(evaluation.decided_grade).rank <= rules.Grade(with_rules.grade).rank
    # R9 holds in every quota group for the decided grades; R17 is recorded.
    for group in QuotaGroup.objects.filter(tenant=tenant):
        decided = (
            Evaluation.objects.filter(quota_group=group, is_current=True)
            .exclude(collective_role="head")
            .values_list("decided_grade", flat=True)
        )
        counts = Counter(decided)
        assert rules.quota_check(counts["excellent"], counts["good"], group.percent).within_quota
    for discrepancy in Discrepancy.objects.filter(tenant=tenant).select_related("evaluation"):
        assert rules.Grade(discrepancy.proposed_grade).is_higher_than(discrepancy.decided_grade)
        assert discrepancy.evaluation.proposed_by_id == discrepancy.proposer_id
    assert Collective.objects.filter(tenant=tenant, completion_percent__lt=70).exists()


def test_published_record_is_the_dossier_snapshot(small):
    for record in PublishedResult.objects.filter(tenant=small.tenant).order_by("pk")[::25]:
        evaluation = Evaluation.objects.select_related("cadre", "period", "unit").get(
            pk=record.evaluation_id
        )
        assert record.snapshot == scoring.dossier_snapshot(evaluation)
        assert (record.grade, record.score) == (evaluation.decided_grade, evaluation.vetted_score)


def test_refuses_a_taken_code_or_too_few_cadres_and_writes_nothing(small):
    tenants = Tenant.objects.count()
    with pytest.raises(ValidationError) as taken:
        scale_generate(cadres=CADRES, units=UNITS, seed=1, tenant_code="scale-a")
    assert "tenant_code" in taken.value.message_dict
    with pytest.raises(ValidationError) as few:
        scale_generate(cadres=40, units=UNITS, seed=1, tenant_code="scale-z")
    assert "cadres" in few.value.message_dict
    assert Tenant.objects.count() == tenants


def test_command_prints_the_accounts_and_counts(db):
    out = StringIO()
    call_command(
        "generate_scale",
        "--cadres",
        str(CADRES),
        "--units",
        str(UNITS),
        "--seed",
        "3",
        "--tenant-code",
        "scale-cmd",
        stdout=out,
    )
    text = out.getvalue()
    assert Cadre.objects.filter(tenant__code="scale-cmd").count() == CADRES
    assert "scale-cmd-organisation" in text and "evaluations" in text
    with pytest.raises(CommandError):
        call_command("generate_scale", "--cadres", "10", "--tenant-code", "scale-cmd", stdout=out)


def test_a_broken_reference_is_found(small):
    task = Task.objects.filter(tenant=small.tenant).first()
    # Foreign keys are checked at COMMIT, which a test never reaches: the row can point nowhere.
    Task.objects.filter(pk=task.pk).update(primary_responsible_id=987_654_321)
    with pytest.raises(ValidationError, match="Task.primary_responsible: 1"):
        verify_references(small.tenant)
    # Put it back: pytest-django checks the deferred constraints when the test ends.
    Task.objects.filter(pk=task.pk).update(primary_responsible_id=task.primary_responsible_id)
    verify_references(small.tenant)

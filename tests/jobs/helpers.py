"""Helpers of the job tests: a clock to travel with, and row counts to compare runs."""

import itertools
from contextlib import contextmanager
from datetime import date, datetime, time
from unittest import mock
from zoneinfo import ZoneInfo

from cadres.models import Position
from cadres.services import assignment_create, cadre_create, position_create
from evaluation.models import (
    Collective,
    CriterionScore,
    Evaluation,
    Job,
    Notification,
    Period,
    QuotaGroup,
    ReportStatus,
    SentReminder,
    Task,
    TransitionLog,
    YearEndResult,
)
from tests import factories

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_seq = itertools.count(1)


@contextmanager
def clock(day: date, hour: int = 9):
    """Make ``timezone.now()`` a moment of ``day`` in Vietnam (timestamps of services)."""
    moment = datetime.combine(day, time(hour), tzinfo=VIETNAM)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


def row_counts() -> dict[str, int]:
    """Rows of every table the jobs write, to show that a second run writes nothing."""
    models = [
        Period,
        Evaluation,
        CriterionScore,
        Task,
        TransitionLog,
        QuotaGroup,
        Collective,
        Notification,
        SentReminder,
        ReportStatus,
        YearEndResult,
        Job,
    ]
    return {model.__name__: model.objects.count() for model in models}


def committee_member(unit, full_name: str, mode: str = "yearly"):
    """A committee member without professional duties graded ``mode`` (R18)."""
    person = cadre_create(
        tenant=unit.tenant,
        user=factories.user(unit.tenant),
        code=f"CM{next(_seq):05d}",
        full_name=full_name,
        evaluation_mode=mode,
    )
    post = position_create(
        unit=unit,
        title="Ủy viên",
        kind=Position.Kind.COMMITTEE_MEMBER,
        collective_role=Position.CollectiveRole.NONE,
    )
    assignment_create(cadre=person, position=post, start_date=date(2026, 1, 1))
    return person

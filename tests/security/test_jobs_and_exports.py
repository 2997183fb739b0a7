"""Isolation in what runs in the background: exports hold one tenant's data only, jobs write
and notify inside the tenant they were given, and a mismatched tenant and id does nothing."""

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from openpyxl import load_workbook

from evaluation import jobs
from evaluation.models import Notification, Period, QuotaGroup
from reporting import services as reports
from reporting.models import Export
from tests.security.world import PRIVATE_MARKER, TENANT_MARKER

pytestmark = pytest.mark.django_db


def workbook_text(export: Export) -> str:
    with default_storage.open(export.file.name, "rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()), read_only=True)
    return " ".join(
        str(cell)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )


def run(export: Export) -> Export:
    reports.export_run(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.DONE, export.error
    return export


def test_each_tenants_export_holds_its_own_data_only(world):
    own = run(world.objects["export"])
    assert PRIVATE_MARKER in workbook_text(own)  # the control: the marker is found when due

    other_period = Period.objects.get(tenant=world.other_tenant)
    foreign = reports.export_request(user=world.stranger, kind="tenant_report", period=other_period)
    text = workbook_text(run(foreign))
    assert TENANT_MARKER not in text
    assert "Tỉnh ủy Khác" in text or "Sở Khác" in text


@pytest.mark.parametrize("kind", ["unit_summary", "tenant_report", "form5_batch"])
def test_nobody_exports_another_tenants_period_or_unit(world, kind):
    before = Export.objects.count()
    with pytest.raises(PermissionDenied):
        reports.export_request(
            user=world.stranger,
            kind=kind,
            period=world.period,
            unit=world.unit if kind != "tenant_report" else None,
        )
    assert Export.objects.count() == before


def test_jobs_given_another_tenants_period_do_nothing(world):
    a_groups = list(QuotaGroup.objects.filter(tenant=world.tenant).values())
    result = jobs.check_quotas(tenant_id=world.other_tenant.pk, period_id=world.period.pk)
    assert result == {"flagged": 0, "cleared": 0}
    with pytest.raises(Period.DoesNotExist):
        jobs.send_reminders(
            tenant_id=world.other_tenant.pk, period_id=world.period.pk, as_of=date(2026, 5, 1)
        )
    assert list(QuotaGroup.objects.filter(tenant=world.tenant).values()) == a_groups
    assert not Notification.objects.filter(recipient__tenant=world.other_tenant).exists()


def test_the_calendar_notifies_each_tenant_inside_itself(world):
    # Every deadline of the quarter, with its reminders 7, 3 and 1 day before.
    start = world.period.start_date
    days = [start + timedelta(days=n) for n in range(0, 130, 1)]
    for day in days:
        jobs.run_calendar(as_of=day)
    notes = list(Notification.objects.select_related("recipient"))
    assert any(n.tenant_id == world.tenant.pk for n in notes)  # the control: reminders went
    for note in notes:
        assert note.recipient.tenant_id == note.tenant_id, note
        if note.tenant_id != world.tenant.pk:
            assert TENANT_MARKER not in f"{note.message} {note.url}", note

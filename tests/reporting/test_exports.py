"""Excel exports: the unit's summary and the report to the level above, read back with openpyxl;
formula-safety of hostile strings; the job, its progress and who may ask for it."""

import io
from dataclasses import replace

import openpyxl
import pytest
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres import services as cadre_services
from cadres.roles import Role
from evaluation import rules
from evaluation import services as evaluation_services
from evaluation.selectors import rule_set_for
from reporting import selectors, services, workbooks
from reporting.models import Export
from tests import factories
from tests.evaluation import steps
from tests.reporting.data import HOSTILE_NAME

HOSTILE_NAMES = [HOSTILE_NAME, "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]
G = rules.Grade


def label(grade):
    return str(grade.label)


def run_export(user, kind, period, unit=None) -> Export:
    export = services.export_request(user=user, kind=kind, period=period, unit=unit)
    return services.export_run(export_id=export.pk)


def read_back(export: Export):
    assert export.status == Export.Status.DONE, export.error
    with export.file.open("rb") as handle:
        return openpyxl.load_workbook(io.BytesIO(handle.read()))


def rows_by_name(sheet, name_column: int, first_row: int):
    rows = {}
    for row in sheet.iter_rows(min_row=first_row):
        if row[name_column].value:
            rows[row[name_column].value] = [cell.value for cell in row]
    return rows


def test_unit_summary_has_one_row_per_cadre_with_scores_grades_deferral_and_flags(quarter):
    u = quarter
    export = run_export(u.organisation, Export.Kind.UNIT_SUMMARY, u.period, u.unit)
    book = read_back(export)

    summary = book.worksheets[0]
    header = [cell.value for cell in summary[3]]
    assert header == list(selectors.summary_header())
    rows = rows_by_name(summary, 2, 4)
    assert len(rows) == 10
    # No., code, name, unit, role, state, tasks, done, %, self, self grade, vetted, vetting
    # grade, proposed, decided, deferral, flags
    demoted = rows["Lê Văn Viên 1"]
    assert demoted[6:10] == [4, 4, 100, 99]
    assert demoted[10:15] == [
        label(G.EXCELLENT),
        99,
        label(G.EXCELLENT),
        label(G.EXCELLENT),
        label(G.GOOD),
    ]
    assert "R17" in demoted[16]
    late = rows["Lê Văn Viên 5"]
    assert late[6:10] == [5, 5, 100, 96.5] and late[14] == label(G.COMPLETED)
    failed = rows["Lê Văn Viên 6"]
    assert failed[7:10] == [3, 75, 82.5] and failed[14] == label(G.NOT_COMPLETED)
    assert rows["Nguyễn Văn Trưởng"][14] == label(G.EXCELLENT)
    deferred = rows["Trần Thị Phó 2"]
    assert deferred[14] is None and deferred[15] == "R11e: Đi học tập trung dài hạn"
    assert rows["Trần Thị Phó 1"][7:15] == [None] * 8  # still planning

    quota = book.worksheets[1]
    figures = {row[0].value: row[1].value for row in quota.iter_rows(max_row=7)}
    assert figures[_("Excellent quota (R9)")] == "Sở Nội vụ"
    assert figures[_("Quota (%)")] == 20
    assert figures[_("Good decided")] == 4
    assert figures[_("Excellent allowed")] == 1  # 20 % of 4 = 0.8 → 1 (R9)
    assert figures[_("Excellent decided")] == 1  # the head is outside the members' quota
    members = rows_by_name(quota, 1, 1)
    assert members["Nguyễn Văn Trưởng"][3]  # marked outside the quota
    assert members["Lê Văn Viên 0"][4:7] == [100, label(G.EXCELLENT), label(G.EXCELLENT)]

    collective = book[_("Collective")]
    first = [cell.value for cell in collective[2]]
    assert first[:7] == ["Sở Nội vụ", 9, 8, 0, 88.9, 70, first[6]]
    targets = [row[1].value for row in collective.iter_rows(min_row=5) if row[1].value]
    assert targets == [f"Chỉ tiêu {i}" for i in range(9)]


def test_hostile_strings_read_back_as_text_never_as_formulas(unit):
    u = unit
    for name in HOSTILE_NAMES:
        factories.cadre(u.unit, name)
    evaluation_services.period_open(period=u.period)  # their evaluations for the quarter
    cadre = selectors.scope_evaluations(u.period, [u.unit]).get(cadre__full_name=HOSTILE_NAME)
    evaluation_services.evaluation_defer(
        evaluation=cadre, actor=u.authority, case="R11e", reason="=1+1"
    )

    summary = read_back(run_export(u.organisation, Export.Kind.UNIT_SUMMARY, u.period, u.unit))
    report = read_back(run_export(u.organisation, Export.Kind.TENANT_REPORT, u.period))

    cells = {cell.value: cell for cell in summary.worksheets[0]["C"] if isinstance(cell.value, str)}
    for name in HOSTILE_NAMES:
        assert cells[name].value == name
        assert cells[name].data_type == "s"
    deferrals = report.worksheets[4]
    name_cell = deferrals["B2"]
    reason_cell = deferrals["E2"]
    assert (name_cell.value, name_cell.data_type) == (HOSTILE_NAME, "s")
    assert (reason_cell.value, reason_cell.data_type) == ("=1+1", "s")


def test_the_writer_takes_rows_from_an_iterator_and_drops_characters_excel_refuses():
    buffer = io.BytesIO()
    rows = ((n, f"Cán bộ {n}", "=A1" if n == 2 else "bell\x07") for n in range(1, 4))
    written = workbooks.write_workbook(
        buffer, [workbooks.Sheet(title="A/B:C*?[x]" * 5, header=("No.", "Name", "Note"), rows=rows)]
    )
    assert written == 3
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = book.worksheets[0]
    assert len(sheet.title) <= 31 and not set("[]:*?/\\") & set(sheet.title)
    assert [c.value for c in sheet["B"]] == ["Name", "Cán bộ 1", "Cán bộ 2", "Cán bộ 3"]
    assert (sheet["C3"].value, sheet["C3"].data_type) == ("=A1", "s")
    assert sheet["C2"].value == "bell"


def test_report_to_the_level_above_counts_by_unit_and_group_with_late_units_and_discrepancies(
    quarter,
):
    u = quarter
    book = read_back(run_export(u.organisation, Export.Kind.TENANT_REPORT, u.period))

    report = book.worksheets[0]
    figures = {row[0].value: row[1].value for row in report.iter_rows() if row[0].value}
    rule_set = rule_set_for(u.tenant, u.period.start_date)
    assert figures[_("Due by")].date() == rules.report_deadline(2026, 2, rule_set)
    late = rules.is_report_late(2026, 2, timezone.localdate(), rule_set)
    assert report["A7"].value == _("On time")
    assert report["B7"].value == (_("No") if late.value else _("Yes"))
    assert report["B8"].value == late.reasons[0].message
    assert figures[_("Evaluations")] == 10
    assert [figures[label(g)] for g in G] == [2, 4, 1, 1]
    assert figures[_("Not decided yet")] == 1 and figures[_("Deferred")] == 1
    assert figures[_("Proposals above the decision (R17)")] == 1

    by_unit = [[c.value for c in row] for row in book.worksheets[1].iter_rows(min_row=2)]
    assert by_unit == [[u.unit.code, "Sở Nội vụ", 10, 2, 4, 1, 1, 1, 1]]
    by_group = [[c.value for c in row] for row in book.worksheets[2].iter_rows(min_row=2)]
    assert by_group[0][3:] == [4, 1, 1, 2, by_group[0][7]]

    late_units = [[c.value for c in row] for row in book.worksheets[3].iter_rows(min_row=2)]
    on = timezone.localdate()
    expected = [
        [u.unit.code, step.label, n]
        for step, n in [(selectors.STEPS[0], 1), (selectors.STEPS[5], 8)]
        if step.deadline(u.period) < on
    ]
    assert [[row[0], row[2], row[4]] for row in late_units] == [
        [code, str(step_label), n] for code, step_label, n in expected
    ]
    deferrals = [[c.value for c in row] for row in book.worksheets[4].iter_rows(min_row=2)]
    assert [row[1] for row in deferrals] == ["Trần Thị Phó 2"]
    discrepancies = [[c.value for c in row] for row in book.worksheets[6].iter_rows(min_row=2)]
    assert discrepancies == [
        [
            u.members[1].code,
            "Lê Văn Viên 1",
            "Sở Nội vụ",
            u.superior.username,
            "Nguyễn Văn Trưởng",
            label(G.EXCELLENT),
            label(G.GOOD),
        ]
    ]


def test_two_not_completed_quarters_in_a_row_raise_the_replacement_flag(quarter):
    """E12 (R15): Not completed in Q1 and Q2 → the flag, in the summary and in the report."""
    u = quarter
    q1 = evaluation_services.period_create(tenant=u.tenant, year=2026, quarter=1)
    evaluation_services.period_open(period=q1)
    earlier = replace(u, period=q1)
    cadre = u.members[6]
    steps.plan_and_approve(earlier, cadre)
    steps.self_assess(earlier, cadre, not_done=1, confirm=True)
    steps.vet(earlier, cadre, not_done=1)
    evaluation_services.evaluation_propose(
        evaluation=earlier.evaluation(cadre), actor=u.superior, grade="not_completed"
    )
    evaluation_services.evaluation_decide(
        evaluation=earlier.evaluation(cadre), actor=u.authority, grade="not_completed"
    )

    summary = read_back(run_export(u.organisation, Export.Kind.UNIT_SUMMARY, u.period, u.unit))
    report = read_back(run_export(u.organisation, Export.Kind.TENANT_REPORT, u.period))

    flags = rows_by_name(summary.worksheets[0], 2, 4)
    assert "R15" in flags["Lê Văn Viên 6"][16]
    assert all(
        "R15" not in (row[16] or "") for name, row in flags.items() if name != "Lê Văn Viên 6"
    )
    flagged = [
        [c.value for c in row] for row in report.worksheets[5].iter_rows(min_row=2, max_row=2)
    ]
    assert flagged[0][:3] == [
        cadre.code,
        "Lê Văn Viên 6",
        f"{label(G.NOT_COMPLETED)} → {label(G.NOT_COMPLETED)}",
    ]
    assert "R15" in flagged[0][3]


def test_the_export_job_reports_progress_and_then_a_download(quarter, client):
    u = quarter
    client.force_login(u.organisation)
    export = services.export_request(
        user=u.organisation, kind=Export.Kind.UNIT_SUMMARY, period=u.period, unit=u.unit
    )  # the on-commit hook never runs inside the test transaction: the job waits

    waiting = client.get(f"/reports/exports/{export.pk}/", HTTP_HX_REQUEST="true")
    assert waiting.status_code == 200
    fragment = waiting.content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "<progress" in fragment
    assert "<html" not in fragment  # htmx gets the fragment only

    services.export_run(export_id=export.pk)
    done = client.get(f"/reports/exports/{export.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done
    assert f"/reports/exports/{export.pk}/download/" in done

    download = client.get(f"/reports/exports/{export.pk}/download/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert body[:2] == b"PK"
    assert openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]["C4"].value
    index = client.get("/reports/").content.decode()
    assert f"/reports/exports/{export.pk}/download/" in index  # the file is kept and listed


def test_asking_through_the_screen_runs_the_job_after_commit(
    quarter, client, django_capture_on_commit_callbacks
):
    u = quarter
    client.force_login(u.authority)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/reports/exports/",
            {"kind": Export.Kind.TENANT_REPORT, "period": u.period.pk},
        )
    export = Export.objects.get(created_by=u.authority)
    assert response.status_code == 302 and response["Location"] == f"/reports/exports/{export.pk}/"
    assert (export.status, export.progress, export.tenant_id) == (
        Export.Status.DONE,
        100,
        u.tenant.pk,
    )
    assert export.parameters == {"period": u.period.pk, "language": "vi"}


def test_running_a_finished_export_again_changes_nothing(quarter):
    u = quarter
    export = run_export(u.organisation, Export.Kind.UNIT_SUMMARY, u.period, u.unit)
    again = services.export_run(export_id=export.pk)
    assert (again.file.name, again.finished_at) == (export.file.name, export.finished_at)


def test_a_job_for_an_export_that_no_longer_exists_does_nothing(db):
    assert services.export_run(export_id=987654) is None


def test_a_role_revoked_before_the_job_runs_stops_the_export(unit):
    u = unit
    export = services.export_request(
        user=u.organisation, kind=Export.Kind.UNIT_SUMMARY, period=u.period, unit=u.unit
    )
    cadre_services.role_revoke(user=u.organisation, role=Role.ORGANISATION, unit=u.unit.parent)
    export = services.export_run(export_id=export.pk)
    assert export.status == Export.Status.FAILED and not export.file
    assert export.error


@pytest.mark.parametrize("who", ["superior", "advisory", "cadre"])
def test_only_organisation_authority_or_administrator_may_export(unit, client, who):
    user = {"superior": unit.superior, "advisory": unit.advisory, "cadre": unit.members[0].user}[
        who
    ]
    client.force_login(user)
    response = client.post(
        "/reports/exports/",
        {"kind": Export.Kind.UNIT_SUMMARY, "period": unit.period.pk, "unit": unit.unit.pk},
    )
    assert response.status_code == 403
    assert not Export.objects.exists()


def test_an_administrator_may_export(unit):
    admin = factories.holder(Role.ADMINISTRATOR, unit.unit)
    export = run_export(admin, Export.Kind.UNIT_SUMMARY, unit.period, unit.unit)
    assert len(list(read_back(export).worksheets[0].iter_rows(min_row=4))) == 10


def test_another_tenants_unit_period_or_export_is_a_404(unit, client, other_tenant):
    foreign = steps.build_unit(other_tenant, members=1)
    client.force_login(unit.organisation)
    for data in [
        {"kind": Export.Kind.UNIT_SUMMARY, "period": unit.period.pk, "unit": foreign.unit.pk},
        {"kind": Export.Kind.TENANT_REPORT, "period": foreign.period.pk},
    ]:
        assert client.post("/reports/exports/", data).status_code == 404
    theirs = services.export_request(
        user=foreign.organisation, kind=Export.Kind.TENANT_REPORT, period=foreign.period
    )
    assert client.get(f"/reports/exports/{theirs.pk}/").status_code == 404
    assert client.get(f"/reports/exports/{theirs.pk}/download/").status_code == 404
    # Nor may a colleague of the same tenant open someone else's export.
    mine = services.export_request(
        user=unit.organisation, kind=Export.Kind.TENANT_REPORT, period=unit.period
    )
    client.force_login(unit.authority)
    assert client.get(f"/reports/exports/{mine.pk}/").status_code == 404
    assert Export.objects.count() == 2


def test_bad_export_requests_are_refused_with_a_message(unit, client):
    client.force_login(unit.organisation)
    for data in [
        {"kind": "everything", "period": unit.period.pk},
        {"kind": Export.Kind.UNIT_SUMMARY, "period": unit.period.pk},  # no unit
        {"kind": Export.Kind.TENANT_REPORT, "period": "abc"},
    ]:
        response = client.post("/reports/exports/", data)
        assert response.status_code == 400, data
        assert 'class="errors"' in response.content.decode()
    assert not Export.objects.exists()

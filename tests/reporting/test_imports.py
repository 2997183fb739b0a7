"""Excel import of units, cadres, assignments and absences: all rows or none, errors located
by sheet, row and column, and hostile files refused before they are parsed."""

import io
import zipfile
from datetime import date

import openpyxl
import pytest
from defusedxml import EntitiesForbidden
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _

from cadres.models import Absence, Assignment, AuditEntry, Cadre, Position, Unit
from cadres.roles import Role
from reporting import imports
from tests import factories
from tests.evaluation.steps import build_unit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(**sheets) -> bytes:
    """The downloadable template with rows filled in, as a user would."""
    buffer = io.BytesIO()
    imports.write_template(buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    titles = {layout.key: str(layout.title) for layout in imports.LAYOUTS}
    for key, rows in sheets.items():
        sheet = book[titles[key]]
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # typed as text, as a user would with a leading '

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, content: bytes, name: str = "import.xlsx"):
    return client.post("/reports/import/", {"file": SimpleUploadedFile(name, content, XLSX)})


def counts():
    return (
        Unit.objects.count(),
        Cadre.objects.count(),
        Position.objects.count(),
        Assignment.objects.count(),
        Absence.objects.count(),
    )


@pytest.fixture
def setup(tenant):
    u = build_unit(tenant, members=1)
    return u


def test_the_template_downloads_with_one_sheet_per_kind_of_row(setup, client):
    client.force_login(setup.organisation)
    response = client.get("/reports/import/template.xlsx")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        _("Instructions"),
        *[str(layout.title) for layout in imports.LAYOUTS],
    ]
    cadres = book[str(imports.LAYOUTS[1].title)]
    assert [c.value for c in cadres[1]][:2] == [f"{_('Staff code')} *", f"{_('Full name')} *"]


def test_a_good_file_lands_whole(setup, client):
    u = setup
    province = u.unit.parent
    content = workbook(
        units=[
            ("SO-TC", "Sở Tài chính", "department", province.code),
            ("PHONG-NS", "Phòng Ngân sách", "Department or agency", "SO-TC"),  # label, not code
        ],
        cadres=[
            ("CB-901", "Đặng Thị Hồng", "14/02/1975", "Tỉnh ủy viên", "Giám đốc Sở", "", ""),
            ("CB-902", "Võ Minh Khôi", date(1980, 5, 1), "", "Phó Giám đốc Sở", "", "quarterly"),
            ("CB-903", '=HYPERLINK("http://x")', None, "", "Trưởng phòng", "", "half_yearly"),
        ],
        assignments=[
            ("CB-901", "SO-TC", "Giám đốc Sở", "leadership", "head", "01/01/2026", None, ""),
            ("CB-902", "SO-TC", "Phó Giám đốc Sở", "", "deputy", "01/01/2026", "", "Phụ trách"),
            ("CB-903", u.unit.code, "Trưởng phòng Tổ chức", "", "member", date(2026, 3, 1)),
        ],
        absences=[
            (u.members[0].code, "sick_leave", "01/04/2026", "15/05/2026", "Điều trị"),
            ("CB-902", "training", "01/04/2026", "30/06/2026", ""),
        ],
    )
    before = counts()
    client.force_login(u.organisation)

    response = upload(client, content)

    assert response.status_code == 302, [str(e) for e in response.context["errors"]]
    assert counts() == (before[0] + 2, before[1] + 3, before[2] + 3, before[3] + 3, before[4] + 2)
    finance = Unit.objects.get(tenant=u.tenant, code="SO-TC")
    budget = Unit.objects.get(tenant=u.tenant, code="PHONG-NS")
    assert finance.parent == province and finance.path.startswith(province.path)
    assert budget.parent == finance and budget.kind == "department"
    hong = Cadre.objects.get(tenant=u.tenant, code="CB-901")
    assert (hong.full_name, hong.date_of_birth) == ("Đặng Thị Hồng", date(1975, 2, 14))
    assert Cadre.objects.get(code="CB-903").full_name == '=HYPERLINK("http://x")'
    assert Cadre.objects.get(code="CB-903").evaluation_mode == "half_yearly"
    head_post = Assignment.objects.get(cadre=hong).position
    assert (head_post.unit, head_post.collective_role) == (finance, "head")
    assert Absence.objects.get(cadre=u.members[0]).kind == "sick_leave"
    audit = AuditEntry.objects.get(tenant=u.tenant, action="import")
    assert audit.detail == {"units": 2, "cadres": 3, "assignments": 3, "absences": 2}
    assert audit.actor == u.organisation


def test_errors_in_rows_3_and_7_write_nothing_and_name_both(setup, client):
    u = setup
    good = [(f"CB-{n}", f"Cán bộ {n}", "01/01/1980", "", "", "", "") for n in range(7)]
    rows = list(good)
    rows[1] = ("CB-1", "", "01/01/1980", "", "", "", "")  # row 3: no full name
    rows[5] = ("CB-5", "Cán bộ 5", "31/02/1980", "", "", "", "")  # row 7: no such date
    content = workbook(
        units=[("SO-MOI", "Sở Mới", "department", u.unit.parent.code)],  # valid on its own
        cadres=rows,
    )
    before = counts()
    client.force_login(u.organisation)

    response = upload(client, content)

    assert response.status_code == 400
    assert counts() == before
    assert not AuditEntry.objects.filter(action="import").exists()
    page = response.content.decode()
    errors = response.context["errors"]
    sheet = str(imports.LAYOUTS[1].title)
    assert [(e.sheet, e.row, e.column[0]) for e in errors] == [(sheet, 3, "B"), (sheet, 7, "C")]
    assert errors[0].column == f"B — {_('Full name')}"
    assert errors[0].message == _("this value is required.")
    assert errors[1].message == _("“%(value)s” is not a date written dd/mm/yyyy.") % {
        "value": "31/02/1980"
    }
    assert "31/02/1980" in page and f"<td>{sheet}</td><td>3</td>" in page
    assert str(errors[0]) == _("Sheet “%(sheet)s”, row %(row)s, column %(column)s: %(message)s") % {
        "sheet": sheet,
        "row": 3,
        "column": errors[0].column,
        "message": errors[0].message,
    }


def test_references_are_checked_against_the_file_and_the_tenant(setup, client, other_tenant):
    u = setup
    foreign = factories.unit(other_tenant, name="Đơn vị tỉnh khác")
    content = workbook(
        units=[
            ("X1", "Đơn vị con", "department", "LATER"),  # parent defined further down
            ("LATER", "Đơn vị cha", "department", foreign.code),  # another tenant's unit
            (u.unit.code, "Trùng mã", "department", u.unit.parent.code),  # code exists
            ("X2", "Loại lạ", "castle", u.unit.parent.code),
        ],
        cadres=[(u.members[0].code, "Trùng mã cán bộ", "", "", "", "", "")],
        assignments=[
            ("NOBODY", u.unit.code, "Chức vụ", "", "", "01/01/2026", "", ""),
            (u.head.code, "NOWHERE", "Chức vụ", "", "", "01/07/2026", "01/06/2026", ""),
        ],
        absences=[(u.head.code, "other", "01/04/2026", "01/06/2026", "")],
    )
    before = counts()
    client.force_login(u.organisation)

    errors = upload(client, content).context["errors"]

    assert counts() == before
    located = {(e.row, e.column.split(" ")[0]) for e in errors}
    assert {(2, "D"), (3, "D"), (4, "A"), (5, "C")} <= located  # units
    assert (2, "A") in located  # the cadre's code exists
    assert {(2, "A"), (3, "B"), (3, "G")} <= {
        (e.row, e.column.split(" ")[0]) for e in errors if e.sheet == str(imports.LAYOUTS[2].title)
    }
    assert any(
        e.sheet == str(imports.LAYOUTS[3].title) and e.column.startswith("E") for e in errors
    )
    assert "Đơn vị tỉnh khác" not in str([str(e) for e in errors])


def test_a_post_cannot_be_held_twice_over_the_same_dates(setup, client):
    u = setup
    post = Assignment.objects.get(cadre=u.head).position
    content = workbook(
        cadres=[("CB-NEW", "Cán bộ mới", "", "", "", "", "")],
        assignments=[
            ("CB-NEW", u.unit.code, post.title, post.kind, post.collective_role, "01/06/2026"),
        ],
    )
    client.force_login(u.organisation)
    errors = upload(client, content).context["errors"]
    assert [(e.row, e.column[0]) for e in errors] == [(2, "F")]
    assert not Cadre.objects.filter(code="CB-NEW").exists()


def test_a_wrong_header_is_named(setup, client):
    buffer = io.BytesIO()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = str(imports.LAYOUTS[1].title)
    sheet.append(["Mã", "Tên"])
    sheet.append(["CB-1", "Cán bộ"])
    book.save(buffer)
    client.force_login(setup.organisation)
    errors = upload(client, buffer.getvalue()).context["errors"]
    assert {(e.row, e.column[0]) for e in errors} >= {(1, "A"), (1, "B"), (1, "C")}
    assert not Cadre.objects.filter(code="CB-1").exists()


def test_a_zip_bomb_is_refused_before_it_is_parsed(setup, client):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (30 * 1024 * 1024))
    content = bomb.getvalue()
    assert len(content) < 200 * 1024  # 30 MB packed into a few tens of kilobytes
    before = counts()
    client.force_login(setup.organisation)

    response = upload(client, content)

    assert response.status_code == 400
    assert counts() == before
    [error] = response.context["errors"]
    assert error.message == _(
        "The workbook unpacks to far more data than its size suggests; it is refused as a "
        "possible compression bomb."
    )


def test_a_50_mb_file_is_refused(setup, client):
    before = counts()
    client.force_login(setup.organisation)
    response = upload(client, b"PK" + b"\0" * (50 * 1024 * 1024))
    assert response.status_code == 400
    assert counts() == before
    [error] = response.context["errors"]
    assert error.message == _("The file is larger than %(mb)s MB.") % {"mb": 10}


@pytest.mark.parametrize(
    "content", [b"not a workbook at all", b"PK\x03\x04broken zip", b"<?xml version='1.0'?><x/>"]
)
def test_files_that_are_not_workbooks_are_refused(setup, client, content):
    client.force_login(setup.organisation)
    response = upload(client, content)
    assert response.status_code == 400
    assert [e.message for e in response.context["errors"]] == [
        _("The file is not an Excel workbook (.xlsx).")
    ]


def test_an_empty_file_is_refused_by_the_form(setup, client):
    client.force_login(setup.organisation)
    response = upload(client, b"")
    assert response.status_code == 400
    assert response.context["form"].errors["file"]


def test_an_xml_entity_bomb_inside_a_workbook_is_refused(setup, client):
    content = workbook(cadres=[("CB-1", "Cán bộ", "", "", "", "", "")])
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = laughs + data.split(b"?>", 1)[-1]  # a DTD with entities before the sheet
            target.writestr(item, data)
    with pytest.raises(imports.ImportRefused) as refused:
        imports.read_workbook(out.getvalue())
    assert isinstance(refused.value.__cause__.__cause__, EntitiesForbidden)  # defusedxml
    client.force_login(setup.organisation)

    response = upload(client, out.getvalue())

    assert response.status_code == 400
    assert [e.message for e in response.context["errors"]] == [
        _("The file could not be read as an Excel workbook.")
    ]
    assert not Cadre.objects.filter(code="CB-1").exists()


@pytest.mark.parametrize("role", [Role.SUPERIOR, Role.ADVISORY])
def test_only_organisation_authority_or_administrator_may_import(setup, client, role):
    client.force_login(factories.holder(role, setup.unit))
    assert client.get("/reports/import/").status_code == 403
    assert client.get("/reports/import/template.xlsx").status_code == 403
    content = workbook(cadres=[("CB-1", "Cán bộ", "", "", "", "", "")])
    assert upload(client, content).status_code == 403
    assert not Cadre.objects.filter(code="CB-1").exists()


def test_an_authority_imports_only_under_its_own_units(setup, client):
    u = setup
    sibling = factories.unit(u.tenant, u.unit.parent, "Sở khác")
    client.force_login(factories.holder(Role.AUTHORITY, u.unit))
    content = workbook(units=[("CON", "Phòng con", "department", sibling.code)])
    errors = upload(client, content).context["errors"]
    assert [(e.row, e.column[0]) for e in errors] == [(2, "D")]
    assert not Unit.objects.filter(code="CON").exists()


def test_a_sheet_longer_than_the_row_cap_is_refused(setup, client, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 5)
    rows = [(f"CB-{n}", f"Cán bộ {n}", "", "", "", "", "") for n in range(6)]
    client.force_login(setup.organisation)
    errors = upload(client, workbook(cadres=rows)).context["errors"]
    assert [(e.sheet, e.row) for e in errors] == [(str(imports.LAYOUTS[1].title), 7)]
    assert not Cadre.objects.filter(code__startswith="CB-").exists()

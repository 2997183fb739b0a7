"""Form 5 as a PDF: its text, its fonts, who may open it, and life without WeasyPrint."""

import io
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from pypdf import PdfReader

from cadres.roles import Role
from evaluation import rules
from evaluation import services as evaluation_services
from reporting import pdf, services
from reporting.models import Export
from tests import factories
from tests.evaluation.steps import build_unit


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return unicodedata.normalize("NFC", " ".join(text.split()))


def font_descriptors(content: bytes) -> dict[str, dict]:
    """Every font used on every page, by base name, with its font descriptor."""
    reader = PdfReader(io.BytesIO(content))
    found = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None:  # a Type0 font keeps it on its descendant
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            found[str(font["/BaseFont"])] = descriptor.get_object()
    return found


def test_form5_holds_the_name_with_diacritics_the_tasks_the_scores_and_the_grade(quarter, client):
    cadre = quarter.members[1]
    evaluation = quarter.evaluation(cadre)
    client.force_login(cadre.user)

    response = client.get(f"/reports/evaluations/{evaluation.pk}/form5.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Lê Văn Viên 1" in text
    assert "ĐẢNG BỘ TỈNH THỬ NGHIỆM" in text  # the tenant's parent body
    assert "Thử nghiệm" in text  # the place
    for number in range(1, 5):
        assert f"Nhiệm vụ {number}" in text
        assert f"Báo cáo {number}" in text
    assert "20/06/2026" in text  # the tasks' deadline, dd/mm/yyyy
    # General criteria 8 + 8 + 7 + 6 = 29 and tasks 70: 99 out of 100, with the decimal comma.
    assert "29,0" in text
    assert "70,0" in text
    assert "99,0" in text
    assert str(rules.Grade.GOOD.label) in text  # decided
    assert str(rules.Grade.EXCELLENT.label) in text  # self-proposed and proposed
    assert "Đề xuất" in text  # the comment of the direct superior level


def test_every_font_of_form5_is_embedded_and_is_the_vendored_serif(quarter):
    content = pdf.render_form5(quarter.evaluation(quarter.head))
    fonts = font_descriptors(content)
    assert fonts, "the PDF uses no font"
    for name, descriptor in fonts.items():
        assert "Form5-Serif" in name
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, name


def test_the_vendored_font_and_its_licence_are_in_static():
    fonts = Path(settings.BASE_DIR) / "static" / "fonts"
    for style in ("Regular", "Bold", "Italic"):
        assert (fonts / f"LiberationSerif-{style}.ttf").read_bytes()[:4] == b"\x00\x01\x00\x00"
    assert "SIL Open Font License" in (fonts / "LICENSE-LiberationSerif.txt").read_text()


def test_the_url_fetcher_serves_the_projects_static_files_only():
    path, mime_type = pdf.static_file_for(
        "http://cadreval.invalid/static/fonts/LiberationSerif-Regular.ttf"
    )
    assert path.name == "LiberationSerif-Regular.ttf" and mime_type == "font/ttf"
    for url in [
        "file:///etc/passwd",
        "http://example.com/static/fonts/LiberationSerif-Regular.ttf",
        "https://cadreval.invalid/static/fonts/LiberationSerif-Regular.ttf",
        "http://cadreval.invalid/static/../manage.py",
        "http://cadreval.invalid/static/fonts/%2e%2e/%2e%2e/config/settings.py",
        "http://cadreval.invalid/static/fonts//etc/passwd.ttf",
        "http://cadreval.invalid/static/vendor/htmx/htmx.min.js",  # not a font, style or image
        "http://cadreval.invalid/static/fonts/missing.ttf",
        "http://cadreval.invalid/media/evidence/secret.png",
        "data:image/png;base64,iVBORw0KGgo=",
    ]:
        with pytest.raises(pdf.RefusedURL):
            pdf.static_file_for(url)


def test_a_document_cannot_pull_in_local_files_or_the_network(monkeypatch):
    refused = []
    check = pdf.static_file_for

    def spy(url):
        try:
            return check(url)
        except pdf.RefusedURL:
            refused.append(url)
            raise

    monkeypatch.setattr(pdf, "static_file_for", spy)
    html = (
        '<html><body><p>Nội dung</p><img src="file:///etc/passwd">'
        '<img src="http://127.0.0.1:9/x.png"><img src="/media/evidence/x.png"></body></html>'
    )
    content = pdf.render_pdf(html)

    assert refused == [
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.png",
        "http://cadreval.invalid/media/evidence/x.png",
    ]
    reader = PdfReader(io.BytesIO(content))
    assert not reader.pages[0]["/Resources"].get("/XObject")  # no image made it in
    assert "Nội dung" in pdf_text(content)


def test_anyone_who_may_view_the_evaluation_gets_its_form5(unit, client):
    url = f"/reports/evaluations/{unit.evaluation(unit.members[2]).pk}/form5.pdf"
    for user in [
        unit.members[2].user,
        unit.superior,
        unit.advisory,
        unit.authority,
        unit.organisation,
    ]:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, user
        assert "Lê Văn Viên 2" in pdf_text(response.content)


def test_form5_of_someone_else_or_another_tenant_is_a_404(unit, client, other_tenant):
    evaluation = unit.evaluation(unit.members[0])
    url = f"/reports/evaluations/{evaluation.pk}/form5.pdf"
    foreign_authority = factories.holder(Role.AUTHORITY, factories.unit(other_tenant))
    for user in [unit.members[1].user, factories.user(unit.tenant), foreign_authority]:
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_without_weasyprint_the_pdf_action_says_what_to_install(unit, client, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # "import weasyprint" now fails
    client.force_login(unit.members[0].user)

    response = client.get(f"/reports/evaluations/{unit.evaluation(unit.members[0]).pk}/form5.pdf")

    assert response.status_code == 503
    assert "libpango-1.0-0" in response.content.decode()


def test_the_application_starts_on_a_machine_without_weasyprint():
    script = (
        "import sys; sys.modules['weasyprint'] = None\n"
        "import django; django.setup()\n"
        "from django.urls import reverse\n"
        "import reporting.views, reporting.services, reporting.tasks, reporting.pdf\n"
        "print(reverse('reporting:index'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/reports/"


@pytest.fixture
def small_unit(tenant):
    """Head, two deputies and one member; one deputy deferred."""
    u = build_unit(tenant, members=1)
    evaluation_services.evaluation_defer(
        evaluation=u.evaluation(u.deputies[1]), actor=u.authority, case="R11e", reason="Học tập"
    )
    return u


def test_a_batch_of_form5_for_a_unit_is_a_zip_built_by_a_job(
    small_unit, django_capture_on_commit_callbacks
):
    u = small_unit
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_request(
            user=u.organisation, kind=Export.Kind.FORM5_BATCH, period=u.period, unit=u.unit
        )
    export.refresh_from_db()
    assert (export.status, export.progress, export.error) == (Export.Status.DONE, 100, "")
    with export.file.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        names = archive.namelist()
        # Four cadres, one deferred: three forms.
        assert len(names) == 3
        head = next(n for n in names if "nguyen-van-truong" in n)
        assert "Nguyễn Văn Trưởng" in pdf_text(archive.read(head))
    assert export.filename.endswith(".zip")


def test_a_batch_without_pango_fails_with_the_install_hint(small_unit, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    export = services.export_request(
        user=small_unit.organisation,
        kind=Export.Kind.FORM5_BATCH,
        period=small_unit.period,
        unit=small_unit.unit,
    )
    export = services.export_run(export_id=export.pk)
    assert export.status == Export.Status.FAILED
    assert "libpango-1.0-0" in export.error


@override_settings(LANGUAGE_CODE="vi")
def test_form5_file_name_is_plain_ascii(small_unit):
    name = pdf.form5_filename(small_unit.evaluation(small_unit.head))
    assert name.isascii() and name.endswith(".pdf")
    assert "nguyen-van-truong" in name and "Q2-2026" in name

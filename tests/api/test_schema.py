"""The committed OpenAPI schema is the generated one, without warnings; the docs are offline."""

from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
REGENERATE = (
    "DJANGO_SETTINGS_MODULE=config.test_settings python manage.py spectacular "
    "--file docs/openapi.yaml --lang en --validate --fail-on-warn"
)


def test_the_committed_schema_is_the_generated_one(tmp_path):
    generated = tmp_path / "openapi.yaml"
    # --fail-on-warn turns any warning of the generator into an error of this test.
    call_command("spectacular", file=str(generated), lang="en", validate=True, fail_on_warn=True)
    assert generated.read_text() == COMMITTED.read_text(), f"Regenerate it: {REGENERATE}"


def test_the_schema_describes_every_transition_with_its_errors():
    schema = yaml.safe_load(COMMITTED.read_text())
    for step in [
        "submit-plan",
        "approve-plan",
        "self-assess",
        "vet",
        "propose",
        "decide",
        "publish",
        "return",
        "defer",
        "reopen",
    ]:
        operation = schema["paths"][f"/api/evaluations/{{id}}/{step}/"]["post"]
        assert {"200", "400", "401", "403", "404", "409", "422"} <= set(operation["responses"])
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert "put" in schema["paths"]["/api/evaluations/{id}/plan/"]
    assert "patch" in schema["paths"]["/api/evaluations/{id}/self-assessment/"]
    assert set(schema["components"]["securitySchemes"]) == {"apiToken", "cookieAuth"}


def test_the_schema_is_served(db):
    response = APIClient().get("/api/schema/", {"lang": "en"})
    assert response.status_code == 200
    served = yaml.safe_load(response.content)
    assert served["paths"].keys() == yaml.safe_load(COMMITTED.read_text())["paths"].keys()


def test_the_interactive_documentation_loads_its_assets_from_static(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    for asset in ["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"]:
        assert f"/static/vendor/swagger-ui/{asset}" in html
        assert finders.find(f"vendor/swagger-ui/{asset}") is not None
    assert "cdn" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "/api/schema/" in html

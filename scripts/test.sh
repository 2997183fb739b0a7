#!/usr/bin/env bash
# Run the whole test suite: lint, unit and integration tests on PostgreSQL, then browser tests.
# DATABASE_URL defaults to the local PostgreSQL server; REDIS_URL to the local Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cadreval}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python manage.py makemigrations --check --dry-run --settings=config.test_settings
# Production settings pass Django's deployment checks.
DEBUG=0 HTTPS=1 REQUIRE_SECRET_KEY=1 ALLOWED_HOSTS=danhgia.example.gov.vn \
  SECRET_KEY="deploy-check-$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  .venv/bin/python manage.py check --deploy --fail-level WARNING
# The vendored assets must survive the production static pipeline (hashed names, no CDN).
DEBUG=0 SECRET_KEY=collectstatic .venv/bin/python manage.py collectstatic --noinput -v0

.venv/bin/pytest -m "not e2e" "$@"

# Browser journeys run last; exit code 5 means none were collected.
set +e
.venv/bin/pytest -m e2e "$@"
status=$?
set -e
if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then exit "$status"; fi

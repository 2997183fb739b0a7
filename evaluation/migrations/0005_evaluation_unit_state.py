from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexOnline(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL (no write lock on a live tenant's
    evaluations); a plain index elsewhere (the embedded SQLite default)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("evaluation", "0004_row_level_security"),
    ]

    operations = [
        AddIndexOnline(
            model_name="evaluation",
            index=models.Index(
                condition=models.Q(("is_current", True)),
                fields=["tenant", "unit", "state"],
                name="evaluation_unit_state",
            ),
        ),
    ]

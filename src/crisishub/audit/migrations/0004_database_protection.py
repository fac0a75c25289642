"""Reject edits and deletes of audit entries in the database itself.

The triggers come from ``crisishub.audit.protection``; see its docstring
for what each vendor rejects and how ``flush`` still empties the table.
"""

from django.db import migrations, models

from crisishub.audit import protection


def install_triggers(apps, schema_editor):
    protection.install(schema_editor.connection)


def remove_triggers(apps, schema_editor):
    connection = schema_editor.connection
    protection.remove(connection)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP FUNCTION IF EXISTS audit_entry_reject_change()")


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_backfill_hash_chain"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(
                fields=["prev_hash"], name="audit_entry_one_successor"
            ),
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]

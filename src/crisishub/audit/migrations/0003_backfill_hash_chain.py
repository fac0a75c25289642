"""Chain the entries written before the hash chain existed, in id order."""

from django.db import migrations

from crisishub.audit.chain import GENESIS_HASH, HASHED_FIELDS, compute_entry_hash


def chain_existing_entries(apps, schema_editor):
    # The historical model has a plain manager, so update() is allowed, and
    # the protection triggers are installed only by 0004.
    AuditEntry = apps.get_model("audit", "AuditEntry")
    db = schema_editor.connection.alias
    previous_hash = GENESIS_HASH
    entries = AuditEntry.objects.using(db)
    rows = entries.order_by("id").values("id", *HASHED_FIELDS).iterator(chunk_size=2000)
    for row in rows:
        row["prev_hash"] = previous_hash
        entry_hash = compute_entry_hash(row)
        entries.filter(pk=row["id"]).update(prev_hash=previous_hash, entry_hash=entry_hash)
        previous_hash = entry_hash


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_hash_chain_fields"),
    ]

    operations = [
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
    ]

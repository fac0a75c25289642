"""Django's ``flush``, able to empty the protected audit table.

This command replaces ``django.core``'s ``flush`` because the audit app is
an installed app. The test suite calls it after every transactional test.
"""

from __future__ import annotations

from django.core.management.commands import flush
from django.db import connections, transaction

from crisishub.audit import protection


class Command(flush.Command):
    help = (
        flush.Command.help
        + " The audit trail's protection triggers are removed for the flush"
        " and installed again in the same transaction."
    )

    def handle(self, **options):
        alias = options["database"]
        operations = connections[alias].ops
        execute_sql_flush = operations.execute_sql_flush

        def execute_unprotected(sql_list):
            connection = connections[alias]
            with transaction.atomic(using=alias):
                removed = protection.remove(connection)
                execute_sql_flush(sql_list)
                if removed:
                    protection.install(connection)

        # Wrap only the statements, not the whole command, so that the
        # confirmation prompt runs outside the transaction. Each thread has
        # its own connection and operations object, so other threads keep
        # the unwrapped method.
        operations.execute_sql_flush = execute_unprotected
        try:
            return super().handle(**options)
        finally:
            del operations.execute_sql_flush

"""The migrations run backwards to nothing and forwards again, leaving the schema they found."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)


def _schema() -> list[tuple]:
    """The app's tables and columns, its indexes, and its triggers, as the catalogue lists them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 'column', c.table_name, c.column_name, c.data_type, c.is_nullable, coalesce(c.column_default, '')
            FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name LIKE 'incidents\\_%'
            UNION ALL
            SELECT 'index', tablename, indexname, indexdef, '', '' FROM pg_indexes
            WHERE schemaname = 'public' AND tablename LIKE 'incidents\\_%'
            UNION ALL
            SELECT 'trigger', event_object_table, trigger_name, event_manipulation, action_timing, action_statement
            FROM information_schema.triggers WHERE trigger_schema = 'public'
            ORDER BY 1, 2, 3, 4
            """
        )
        return cursor.fetchall()


def test_the_app_migrates_to_zero_and_back_to_the_same_schema():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("incidents")
    before = _schema()
    assert any(row[0] == "trigger" for row in before)  # the works impact triggers are there

    executor.migrate([("incidents", None)])
    assert _schema() == []

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)
    assert _schema() == before

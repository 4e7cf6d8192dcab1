"""Keep the statistics of the tables the pipeline grows fresh enough to plan its queries from."""

from __future__ import annotations

from incidents.models import Incident

# Tables the pipeline grows whose statistics its queries are planned from. Not the post table:
# its queries go by id, and analysing its wide rows (text, raw payload) takes seconds.
_GROWING = (Incident._meta.db_table,)
# How much a table may grow past the row count of its statistics before it is analysed again.
STATISTICS_GROWTH = 1.2
STATISTICS_SLACK_ROWS = 1000


def keep_statistics(cursor) -> list[str]:
    """ANALYZE the incident table when it grew by a fifth since its statistics; return the tables analysed.

    An import can grow it tenfold in a minute, faster than autovacuum analyses it.
    Planned from statistics of a table a tenth of its size, the grouping's probes turned
    from index lookups into scans of a whole category of incidents per post: the same
    batch took ten times as long, depending on when autovacuum had come by.
    """
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
        WHERE c.relname = ANY(%s) AND s.n_live_tup > %s * greatest(c.reltuples, 0) + %s
        ORDER BY c.relname
        """,
        [list(_GROWING), STATISTICS_GROWTH, STATISTICS_SLACK_ROWS],
    )
    tables = [table for (table,) in cursor.fetchall()]
    for table in tables:
        cursor.execute(f"ANALYZE {table}")
    return tables

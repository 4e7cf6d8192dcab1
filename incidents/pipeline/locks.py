"""
The pipeline's advisory locks: one namespace, one key per step that processes take in turns.

Each is a transaction-level lock (``pg_advisory_xact_lock``), released at commit or rollback.
"""

from __future__ import annotations

LOCK_NAMESPACE = 0x43495459  # "CITY"
# Storing (incidents.pipeline.store): an original and its repost stored at the same moment by
# two processes must each see the other, or a repost would not be counted.
STORE_LOCK = 1
# Grouping and incident totals (incidents.pipeline.group, .totals): two workers never open two
# incidents for the same problem, nor count one incident's posts at the same time.
GROUP_LOCK = 2


def hold(cursor, key: int) -> None:
    """Take the pipeline's lock ``key``, held until the transaction ends."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, key])


def hold_incidents(cursor) -> None:
    """Take the grouping lock (:data:`GROUP_LOCK`) for the statements on incidents that follow."""
    hold(cursor, GROUP_LOCK)
    # Short set-based statements: compiling them (JIT) costs more than running them.
    cursor.execute("SET LOCAL jit = off")

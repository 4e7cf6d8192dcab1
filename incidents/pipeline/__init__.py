"""
The listening pipeline: parsed posts in, incidents out. Each step has one module.

::

    items (incidents.sources: one parser per format → PostRecord)
      → ingest.py    batches, an answer per item, the store-ahead thread, here or Celery
      → store.py     exactly once: COPY + INSERT ... ON CONFLICT; reposts counted as engagement
      → decide.py    per post: classify, locate, place (areas.py: service area; link.py: nearest segment)
      → process.py   claim the pending posts, one batch table, one write per post
          → group.py     which incident each post joins
          → link.py      works zones active nearby
          → totals.py    the incidents' totals, point, links and priority
      (tasks.py: process.py in a Celery worker; link.py relink_incidents() after an import)

What the steps share: ``columns.py``, the post columns written and read back;
``locks.py``, the advisory locks; ``statistics.py``, when to ANALYZE what the pipeline
grows. Per-process caches (the locator's gazetteer, nearest segments, service areas) are
:class:`incidents.cache.StampedCache`.
"""

"""
Channels: the service's live connection to Mastodon, Bluesky and X, both ways.

```
networks ─ http.py (polite requests) ─ mastodon.py / bluesky.py / x.py (streams, pages, replies)
   │
   ├─ listen.py: poll the streams → sources/ parsers → ingest (store exactly once) → cursors
   │            (manage.py listen, Celery beat: tasks.py)
   └─ outbox.py: triage replies → queued → published once on the post's network (retried, looked up)
```

Channels themselves (what to follow, which environment variable holds the token) are
rows (:class:`incidents.models.Channel`), written by :mod:`incidents.services.channels`.
"""

"""
Telling people: subscriptions to incidents in a place, their outbox and its delivery, and works crews told.

``outbox`` writes, in the transaction that changes incidents, one row per event,
subscription and channel; ``deliver`` sends them (e-mail through Django's mail framework,
signed webhooks) and retries with backoff; ``tasks`` and ``manage.py deliver`` run it;
``works`` tells the contact of a works zone about an incident, from the triage.
"""

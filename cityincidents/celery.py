"""Celery application for the scale-out path and the channels' beat (only used when CELERY_BROKER_URL is set)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityincidents.settings")

app = Celery("cityincidents")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The listener's tick (incidents/channels/tasks.py), sent by `celery beat` (settings.CELERY_BEAT_SCHEDULE).
app.autodiscover_tasks(["incidents.channels"])

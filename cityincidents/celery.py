"""Celery application for the scale-out path and the channels' beat (only used when CELERY_BROKER_URL is set)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityincidents.settings")

app = Celery("cityincidents")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live with what they run: the pipeline's processing step (incidents/pipeline/tasks.py) and
# the listener's tick that `celery beat` sends (incidents/channels/tasks.py, settings.CELERY_BEAT_SCHEDULE).
app.autodiscover_tasks(["incidents.pipeline", "incidents.channels"])

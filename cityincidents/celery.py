"""Celery application for the scale-out path (only used when CELERY_BROKER_URL is set)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityincidents.settings")

app = Celery("cityincidents")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The one task runs the pipeline's processing step and lives with it: incidents/pipeline/tasks.py.
app.autodiscover_tasks(["incidents.pipeline"])

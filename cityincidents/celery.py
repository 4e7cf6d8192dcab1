"""Celery application for the scale-out path (only used when CELERY_BROKER_URL is set)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityincidents.settings")

app = Celery("cityincidents")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

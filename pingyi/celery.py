"""Celery app: workers on Redis in production, tasks run in process when no broker is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingyi.settings")

app = Celery("pingyi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

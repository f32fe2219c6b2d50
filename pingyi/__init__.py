"""pingyi (评议): online evaluation of union work by trade-union members."""

from .celery import app as celery_app

__all__ = ["celery_app"]

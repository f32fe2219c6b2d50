"""Background jobs of cases: the hourly check for overdue cases (Celery beat, "overdue-cases")."""

from celery import shared_task

from .services import check_overdue_cases as check


@shared_task(name="cases.tasks.check_overdue_cases")
def check_overdue_cases() -> dict:
    """Mark overdue cases, escalate them and notify the parent orgs; idempotent."""
    report = check()
    return {"verify": report.verify, "rectify": report.rectify, "escalated": report.escalated}

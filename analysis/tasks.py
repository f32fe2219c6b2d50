"""Background jobs of the analysis: the needs pass, on Celery or on a thread (pingyi.jobs)."""

from celery import shared_task

from .models import AnalysisRun


@shared_task(name="analysis.run_needs")
def run_needs_task(run_id: int) -> str:
    from .services import run_needs

    run = AnalysisRun.objects.get(pk=run_id)
    return run_needs(run).status

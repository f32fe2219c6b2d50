"""Starting long jobs: on a Celery worker when a broker is set, else on a thread of this process.

Without a broker Celery runs a task inside the call (eager), which would hold the admin's
request for as long as a 100,000-row import takes and show no progress. The embedded default
therefore runs such a job on a thread, so the page that follows can show its progress; tests
set PINGYI_JOBS_IN_THREAD off and get the job done before the response. When the broker is set
but does not answer, the job falls back to a thread too, with an error in the log.
"""

import logging
import threading

from django.conf import settings
from django.db import connections
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def start(task, *args) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER and settings.PINGYI_JOBS_IN_THREAD:
        threading.Thread(
            target=_run_here, args=(task, args), name=f"job:{task.name}", daemon=True
        ).start()
    else:
        try:
            task.delay(*args)
        except OperationalError:
            # The broker (Redis) is down: the job still runs, on a thread of this process,
            # rather than being lost with a server error; the operator sees why in the log.
            logger.error("消息队列不可用，后台任务 %s 改在本进程内运行", task.name, exc_info=True)
            threading.Thread(
                target=_run_here, args=(task, args), name=f"job:{task.name}", daemon=True
            ).start()


def _run_here(task, args) -> None:
    try:
        task.apply(args=args)
    except Exception:
        logger.exception("后台任务 %s 失败", task.name)
    finally:
        # A thread's connections are its own; leaving them open would leak one per job.
        connections.close_all()

"""gunicorn settings of pingyi's web service (deploy/systemd/pingyi-web.service reads it).

Sync workers, 2 × cores + 1 of them: a request holds one worker for its few database round
trips (benchmarks/README.md measured sync against gthread on 2 cores).
"""

import multiprocessing

bind = "127.0.0.1:8000"
worker_class = "sync"
workers = 2 * multiprocessing.cpu_count() + 1
# A request that runs longer is killed and logged; the longest pages (a province's progress
# export) stay well under it, long jobs run on the Celery worker.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (memory of large exports is given back).
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# The client's address is the one nginx appended to X-Forwarded-For (accounts/throttle.py);
# nginx is the only one allowed to talk to this port.
forwarded_allow_ips = "127.0.0.1"

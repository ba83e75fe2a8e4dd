"""gunicorn settings for `gunicorn -c config/gunicorn.conf.py wsgi:app`.

Workers are stateless: sessions, tokens and keys live in the database, rate limits and
short-lived state in Redis, so any number of instances can sit behind a load balancer.
"""

import multiprocessing
import os

bind = os.environ.get("TESSERA_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("TESSERA_WORKERS", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("TESSERA_THREADS", 2))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"
# Query strings can carry codes and tokens; log only the method and path.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("TESSERA_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Stamp each request when it is queued for a thread, so the app can shed the ones that
    waited too long (app/http/shedding.py). Imported here, in the worker, after gunicorn
    has loaded the app and put the project on the import path."""
    from app.http.shedding import stamp_arrivals

    stamp_arrivals(worker)

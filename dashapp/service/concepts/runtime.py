"""Concept test jobs built from settings, for the web app and Celery workers
alike: the scanner's stores (blobs, manifests, images) and model registry,
and the Celery task that runs a job on a worker."""

from __future__ import annotations

import logging
import weakref
from functools import lru_cache
from typing import Any

from dashapp.config.settings import Settings

from .jobs import CONCEPT_TASK, ConceptJobs, Dispatch, in_process

log = logging.getLogger(__name__)
_BY_SERVICE: weakref.WeakKeyDictionary[Any, ConceptJobs] = weakref.WeakKeyDictionary()


def celery_dispatch(settings: Settings) -> Dispatch:
    """One Celery task per job on the settings' broker."""
    from dashapp.config.celery_app import make_celery

    client = make_celery(settings)

    def dispatch(_jobs: ConceptJobs, job: str) -> None:
        client.send_task(CONCEPT_TASK, args=[job])

    return dispatch


def jobs_for(settings: Settings, scanner: Any, dispatch: Dispatch | None = None) -> ConceptJobs:
    """With DASHAPP_REDIS_URL jobs go to Celery workers; without it they run in a thread of this process."""
    chosen = dispatch or (celery_dispatch(settings) if settings.redis_url else in_process)
    return ConceptJobs(scanner.blobs, scanner.collections, scanner.images, scanner.registry, chosen)


def service_jobs(service: Any) -> ConceptJobs:
    """The jobs of an ``Analyzer`` (one per app: the API and the page share it)."""
    jobs = _BY_SERVICE.get(service)
    if jobs is None:
        jobs = _BY_SERVICE[service] = jobs_for(service.settings, service.collections.scans)
        jobs.collections = service.collections.viewed()  # a request names only collections its user may read
        collections = service.collections
        jobs.started = lambda job: collections.owners.record_starter("tcav", job, collections.viewer())
        jobs.may_cancel = lambda job: collections.owners.check_starter("tcav", job, collections.viewer())
    return jobs


def register_task(app: Any, settings: Settings, scanner: Any) -> None:
    """The worker's task: run one job (``scanner``: the worker's cached scanner factory)."""

    @lru_cache(maxsize=1)
    def jobs() -> ConceptJobs:
        return jobs_for(settings, scanner())

    @app.task(name=CONCEPT_TASK, acks_late=True, reject_on_worker_lost=True)
    def concept_test(job: str) -> bool:
        try:
            return jobs().run(job)
        except Exception as exc:
            log.exception("concept test %s failed", job)
            jobs().fail(job, str(exc))
            raise

"""A burst of first requests in one process makes each AWS client once (adapters/aws.py).

`chalice local` (make run) serves each request on its own thread: before, every thread of a
burst made every client it touched, each a tenth of a second of CPU under the GIL, and the
first 32 filings of `make load` spent their whole AWS budget doing so (503). Counted, not
timed: how many clients botocore was asked to make."""

from __future__ import annotations

import threading
from collections import Counter

import botocore.session

from chalicelib.adapters import aws, tables


def test_threads_that_all_start_at_once_make_each_client_once(world, monkeypatch):
    made: Counter[str] = Counter()
    original = botocore.session.Session.create_client

    def counting(self, service_name, *args, **kwargs):
        made[service_name] += 1
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    aws.reset()
    tables.reset()
    tables.bind(world)
    threads, start = 16, threading.Barrier(16)
    failures: list[BaseException] = []

    def first_request() -> None:
        try:
            start.wait()
            aws.client("kms", world.region)
            tables.connection()
            tables.Case._get_connection()
            tables.Dispute._get_connection()
        except BaseException as exc:  # reported below, in the test's own thread
            failures.append(exc)

    workers = [threading.Thread(target=first_request) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    # kms once; dynamodb: the shared transaction connection and one per model.
    assert made == Counter({"kms": 1, "dynamodb": 3}), made

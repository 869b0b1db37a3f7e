"""A write that landed but whose answer was lost (a read timeout under load): botocore sends
the same TransactWriteItems again, which then meets every condition its own first attempt
set. Found by `make load` (issue 19): such a filing answered 500 and such a transition 412,
although the change had been made, once.

Real DynamoDB makes the retry succeed by the request's ClientRequestToken, which the
transactions now carry; moto ignores tokens, so the service also recognises its own write.
Here every transaction is committed twice, as the client's retry would.
"""

from __future__ import annotations

import pytest
from pynamodb.transactions import TransactWrite

from tests.integration.helpers import scan
from tests.integration.test_case_actions import Desk


@pytest.fixture
def retried(monkeypatch):
    original = TransactWrite._commit

    def twice(self):
        original(self)  # lands
        return original(self)  # the client's retry of the same request, tokens and all

    monkeypatch.setattr(TransactWrite, "_commit", twice)


@pytest.fixture
def desk(client, frozen_clock, world) -> Desk:
    return Desk(client, frozen_clock, world)


def test_a_retried_filing_answers_201_and_files_once(desk, retried):
    dispute_id, ids = desk.file("tencent")
    disputes = [d for d in scan(desk.settings, "disputes") if d["dispute_id"]["S"] == dispute_id]
    assert len(disputes) == 1
    events = [e for e in scan(desk.settings, "events") if e["case_id"]["S"] == ids["tencent"]]
    assert len(events) == 1


def test_a_retried_transition_answers_200_and_changes_once(desk, retried):
    _, ids = desk.file("jd")
    desk.ok(desk.transition("jd", ids["jd"], {"action": "acknowledge"}), "acknowledged")
    r = desk.api.call("GET", f"/v1/liaison/cases/{ids['jd']}", token=desk.liaison("jd"))
    assert r.data["version"] == 2
    assert [e["action"] for e in r.data["history"]] == ["file", "acknowledge"]

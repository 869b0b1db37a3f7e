"""Integration-test fixtures that change no behaviour of the service:

- one botocore data loader shared across sessions (a speed-up, below);
- every response through Chalice's test client is held to the stage's /openapi.json: its status
  and media type documented, its JSON body valid against the documented schema
  (helpers.ResponseContract), so a field added or renamed without the schema fails a test.

PynamoDB opens one botocore session per model, and every new session parses botocore's
service JSON again (~0.2 s per client, eight models per moto world). Sharing one data loader
across sessions, as a single boto3 session does anyway, makes each world ~4x cheaper.
"""

from __future__ import annotations

import botocore.loaders
import botocore.session
import pytest
from chalice.test import TestHTTPClient

from tests.integration.helpers import checked_request


@pytest.fixture(scope="session", autouse=True)
def _shared_botocore_loader():
    loader = botocore.loaders.create_loader()
    original = botocore.session.Session._register_data_loader

    def register(self) -> None:
        self._components.register_component("data_loader", loader)

    botocore.session.Session._register_data_loader = register
    yield
    botocore.session.Session._register_data_loader = original


@pytest.fixture(scope="session", autouse=True)
def _responses_match_the_document():
    original = TestHTTPClient.request
    TestHTTPClient.request = checked_request(original)
    yield
    TestHTTPClient.request = original

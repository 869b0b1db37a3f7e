"""Integration-test speed-up only; no behaviour of the service changes.

PynamoDB opens one botocore session per model, and every new session parses botocore's
service JSON again (~0.2 s per client, eight models per moto world). Sharing one data loader
across sessions, as a single boto3 session does anyway, makes each world ~4x cheaper.
"""

from __future__ import annotations

import botocore.loaders
import botocore.session
import pytest


@pytest.fixture(scope="session", autouse=True)
def _shared_botocore_loader():
    loader = botocore.loaders.create_loader()
    original = botocore.session.Session._register_data_loader

    def register(self) -> None:
        self._components.register_component("data_loader", loader)

    botocore.session.Session._register_data_loader = register
    yield
    botocore.session.Session._register_data_loader = original

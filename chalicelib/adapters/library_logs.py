"""The AWS libraries' loggers, held at INFO (the adapters are the code that knows these
libraries): at DEBUG botocore logs request parameters (SNS PhoneNumber, KMS Plaintext) and
PynamoDB logs item contents — a number in a log line is a breach of docs/design.md §8,
whatever the Lambda's log level. Imports only `logging`: app.py calls it at start-up."""

from __future__ import annotations

import logging

CHATTY_LIBRARIES = ("botocore", "boto3", "pynamodb", "urllib3", "s3transfer")


def configure() -> None:
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO)

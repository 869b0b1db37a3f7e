"""Logging set-up. Library loggers are held at INFO: at DEBUG botocore logs request
parameters (SNS PhoneNumber, KMS Plaintext) and PynamoDB logs item contents — a number in a
log line is a breach of docs/design.md §8, whatever the Lambda's log level."""

from __future__ import annotations

import logging

CHATTY_LIBRARIES = ("botocore", "boto3", "pynamodb", "urllib3", "s3transfer")


def configure() -> None:
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO)

"""Envelope for the one piece of personal data we must be able to read back: the number."""

from __future__ import annotations

import base64

from chalicelib.adapters import aws
from chalicelib.config import Settings

_CONTEXT = {"purpose": "recount-sms-recipient"}


def encrypt_number(settings: Settings, e164: str) -> str:
    kms = aws.client("kms", settings.region)
    blob = kms.encrypt(
        KeyId=settings.kms_key_id, Plaintext=e164.encode(), EncryptionContext=_CONTEXT
    )["CiphertextBlob"]
    return base64.b64encode(blob).decode()


def decrypt_number(settings: Settings, cipher: str) -> str:
    kms = aws.client("kms", settings.region)
    out = kms.decrypt(CiphertextBlob=base64.b64decode(cipher), EncryptionContext=_CONTEXT)
    return out["Plaintext"].decode()

"""SMS providers behind one interface, chosen per stage (RECOUNT_SMS_PROVIDER): SNS Publish to a
number (the default), or Alibaba Cloud / Tencent Cloud SMS for deployments in China
(chalicelib/adapters/sms_china.py). In stage local every provider's messages are also kept
readable for /dev/sms."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import aws
from chalicelib.config import Settings
from chalicelib.domain import clock
from chalicelib.domain.ports import DeliveryReports, SmsMessage, SmsSender

PROVIDERS = ("sns", "aliyun", "tencent")


class SnsSmsSender:
    """SmsSender through SNS Publish to a number (no SMS in the AWS China regions)."""

    provider = "sns"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def send(self, e164: str, message: SmsMessage, *, phone_key: str, masked: str) -> str:
        sns = aws.client("sns", self._settings.region)
        reply = sns.publish(
            PhoneNumber=e164,
            Message=message.text,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
            },
        )
        message_id = str(reply["MessageId"])
        if self._settings.is_local:
            keep_for_dev(self._settings, phone_key, masked, message.text, message_id)
        return message_id


class _KeptForDev:
    """Stage local: an in-China provider's messages kept readable for /dev/sms, as SNS's are
    (its fake has no text: the provider renders its own copy of the template)."""

    def __init__(self, settings: Settings, inner: Any) -> None:
        self._settings = settings
        self._inner = inner
        self.provider = inner.provider

    def send(self, e164: str, message: SmsMessage, *, phone_key: str, masked: str) -> str:
        message_id = str(self._inner.send(e164, message, phone_key=phone_key, masked=masked))
        keep_for_dev(self._settings, phone_key, masked, message.text, message_id)
        return message_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # pull, needs_numbers


def keep_for_dev(
    settings: Settings, phone_key: str, masked: str, text: str, message_id: str
) -> None:
    """The embedded AWS keeps no readable record of what it "sent": keep one for /dev/sms."""
    from chalicelib.adapters.tables import DevSms

    now = clock.now()
    DevSms(
        phone_key,
        clock.iso(now) + "#" + message_id[:8],
        body=text,
        message_id=message_id,
        phone_masked=masked,
        expires_at=now + settings.retention,
    ).save()


_senders: dict[tuple[str, str, str, str], Any] = {}


def sender(settings: Settings) -> SmsSender:
    """The stage's provider (a lazy singleton per configuration: its client and cache last)."""
    name = settings.sms_provider
    if name not in PROVIDERS:
        raise RuntimeError(f"RECOUNT_SMS_PROVIDER must be one of {', '.join(PROVIDERS)}: {name}")
    if name == "sns":
        return SnsSmsSender(settings)
    key = (name, settings.stage, settings.sms_secret, settings.sms_endpoint)
    if key not in _senders:
        from chalicelib.adapters import sms_china

        inner = (sms_china.AliyunSmsSender if name == "aliyun" else sms_china.TencentSmsSender)(
            settings
        )
        _senders[key] = _KeptForDev(settings, inner) if settings.is_local else inner
    return _senders[key]


def delivery_reports(settings: Settings) -> DeliveryReports | None:
    """The stage's provider if it has pull delivery reports (SNS has none to pull)."""
    chosen = sender(settings)
    return chosen if hasattr(chosen, "pull") else None  # type: ignore[return-value]


def dev_sent_to(phone_key: str, *, newest_first: bool = False) -> list[dict[str, str]]:
    """Stage `local` only: what the embedded AWS "sent" to a number, oldest first."""
    from chalicelib.adapters.tables import DevSms

    query = DevSms.query(
        phone_key,
        filter_condition=DevSms.expires_at.does_not_exist() | (DevSms.expires_at > clock.now()),
        consistent_read=True,
        scan_index_forward=not newest_first,
    )
    return [
        {"body": m.body, "sent_at": m.sent_at.split("#")[0], "message_id": m.message_id}
        for m in query
    ]

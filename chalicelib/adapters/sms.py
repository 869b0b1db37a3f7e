"""SMS providers behind one interface. SNS Publish to a number now; an in-China provider later."""

from __future__ import annotations

from chalicelib.adapters import aws
from chalicelib.config import Settings
from chalicelib.domain import clock
from chalicelib.domain.ports import SmsSender


class SnsSmsSender:
    """SmsSender through SNS Publish to a number (no SMS in the AWS China regions)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def send(self, e164: str, text: str, *, phone_key: str, masked: str) -> str:
        sns = aws.client("sns", self._settings.region)
        reply = sns.publish(
            PhoneNumber=e164,
            Message=text,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
            },
        )
        message_id = reply["MessageId"]
        if self._settings.is_local:
            # The embedded AWS keeps no readable record of what it "sent": keep one for /dev/sms.
            from chalicelib.adapters.tables import DevSms

            now = clock.now()
            DevSms(
                phone_key,
                clock.iso(now) + "#" + message_id[:8],
                body=text,
                message_id=message_id,
                phone_masked=masked,
                expires_at=now + self._settings.retention,
            ).save()
        return message_id


def sender(settings: Settings) -> SmsSender:
    return SnsSmsSender(settings)


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

"""The in-China SMS providers behind the SmsSender port (docs/design.md §11): Alibaba Cloud SMS
and Tencent Cloud SMS through their official SDKs, each sending the provider's approved copy of
our template (templates/sms/providers.yaml) with its parameters, and pulling delivery reports.

Each provider's answer codes are mapped here from its documentation, never guessed: a code in
PERMANENT is dead at once (sending again cannot help), a code in THROTTLED is retried with
backoff, and any other refusal is retried until the dispatcher's attempts run out. A network
fault or an HTTP error is no refusal: it is raised as it is and retried the same way.

The SDKs are imported when a provider is first used: a stage on SNS never loads them.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

from chalicelib.adapters import secrets
from chalicelib.config import Settings
from chalicelib.domain import clock
from chalicelib.domain.ports import DeliveryReport, SmsMessage, SmsRefused
from chalicelib.domain.sms_providers import (
    ProviderTemplate,
    ProviderTemplateError,
    load_provider_templates,
)
from chalicelib.domain.workdays import SHANGHAI

CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = 5

# Alibaba Cloud SMS API error codes (help.aliyun.com/document_detail/101346.html; the English
# list at alibabacloud.com/help/doc-detail/116206.htm).
ALIYUN_THROTTLED = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",  # per-number flow control: 1/min, 5/h, 10/day for codes
        "isv.DAY_LIMIT_CONTROL",
        "isv.BUSINESS_LIMIT_HOUR",
        "isv.BUSINESS_LIMIT_DAY",
        "Throttling.User",  # the API's own rate limit (HTTP 400)
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "isv.OUT_OF_SERVICE",  # balance ran out: retried while the operator tops it up
        "isv.AMOUNT_NOT_ENOUGH",
    }
)
ALIYUN_PERMANENT = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",  # not a valid number
        "isv.BLACK_KEY_CONTROL_LIMIT",  # a blacklisted word in a variable
        "isv.SMS_TEMPLATE_ILLEGAL",  # template not approved, or not this account's
        "isv.SMS_SIGNATURE_ILLEGAL",  # signature not approved
        "isv.SMS_SIGN_NAME_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.INVALID_PARAMETERS",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
    }
)

# Tencent Cloud SMS error codes (cloud.tencent.com/document/product/382/52075): per number in
# SendStatusSet, or for the whole request as TencentCloudSDKException.code.
TENCENT_THROTTLED = frozenset(
    {
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "LimitExceeded.PhoneNumberDailyLimit",
        "LimitExceeded.PhoneNumberSameContentDailyLimit",
        "LimitExceeded.DeliveryFrequencyLimit",
        "LimitExceeded.AppDailyLimit",
        "RequestLimitExceeded",
        "InternalError",
        "FailedOperation.InsufficientBalanceInSmsPackage",  # retried while the operator tops up
    }
)
TENCENT_PERMANENT = frozenset(
    {
        "InvalidParameterValue.IncorrectPhoneNumber",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.PhoneNumberParseFail",
        "FailedOperation.TemplateUnapprovedOrNotExist",
        "FailedOperation.TemplateIdNotExist",
        "FailedOperation.SignatureIncorrectOrUnapproved",
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        "FailedOperation.ContainSensitiveWord",
        "InvalidParameterValue.TemplateParameterFormatError",
        "InvalidParameterValue.TemplateParameterLengthLimit",
        "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
    }
)
# The Tencent SDK's own names for a fault on the way: no answer from the provider.
TENCENT_NETWORK = frozenset({"ClientNetworkError", "ServerNetworkError"})


def _refusal(provider: str, code: str, permanent: frozenset[str]) -> SmsRefused:
    return SmsRefused(provider, code, permanent=code in permanent)


class _Provider:
    """What both providers share: credentials from Secrets Manager, one client per set of
    credentials (rotated credentials make a new client), the endpoint and its scheme."""

    provider = ""
    public_endpoint = ""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._clients: dict[tuple[tuple[str, str], ...], Any] = {}

    def credentials(self) -> dict[str, str]:
        return secrets.json_secret(self._settings.region, self._settings.sms_secret)

    @property
    def endpoint(self) -> tuple[str, str]:
        """(host, scheme): a loopback fake over http in stage local (make run, the tests)."""
        override = self._settings.sms_endpoint
        if override and self._settings.is_local:
            return override, "http"
        return override or self.public_endpoint, "https"

    def client(self) -> Any:
        creds = self.credentials()
        key = tuple(sorted(creds.items()))
        with self._lock:
            if key not in self._clients:
                self._clients = {key: self._new_client(creds)}
            return self._clients[key]

    def _new_client(self, creds: dict[str, str]) -> Any:
        raise NotImplementedError

    def variant(self, message: SmsMessage) -> ProviderTemplate:
        try:
            variant = load_provider_templates().pick(message.template, message.variables)
            variant.positional_params(message.variables)  # every param has a value
            return variant
        except ProviderTemplateError:
            # No approved template fits the message: sending again cannot help (the mapping in
            # templates/sms/providers.yaml needs the fix; runbook §7.1).
            raise SmsRefused(self.provider, "no_approved_template", permanent=True) from None


class AliyunSmsSender(_Provider):
    """Alibaba Cloud SMS: SendSms (sign name, template code, JSON parameters), BizId back;
    delivery from QuerySendDetails (one query per message: it asks for the number and day)."""

    provider = "aliyun"
    public_endpoint = "dysmsapi.aliyuncs.com"
    needs_numbers = True

    def _new_client(self, creds: dict[str, str]) -> Any:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        host, scheme = self.endpoint
        return Client(
            Config(
                access_key_id=creds["access_key_id"],
                access_key_secret=creds["access_key_secret"],
                endpoint=host,
                protocol=scheme,
                connect_timeout=CONNECT_TIMEOUT_S * 1000,
                read_timeout=READ_TIMEOUT_S * 1000,
            )
        )

    def send(self, e164: str, message: SmsMessage, *, phone_key: str, masked: str) -> str:
        from alibabacloud_dysmsapi20170525 import models

        variant = self.variant(message)
        request = models.SendSmsRequest(
            phone_numbers=e164.removeprefix("+86"),
            sign_name=self._settings.sms_sign_name,
            template_code=variant.ids[self.provider],
            template_param=json.dumps(variant.named_params(message.variables), ensure_ascii=False),
        )
        try:
            body = self.client().send_sms(request).body
        except Exception as exc:
            code = getattr(exc, "code", None)
            if isinstance(code, str) and code:  # the API answered 4xx/5xx with its code
                raise _refusal(self.provider, code, ALIYUN_PERMANENT) from None
            raise  # no answer (refused, timed out): a fault, retried
        if body.code == "OK" and body.biz_id:
            return str(body.biz_id)
        raise _refusal(self.provider, str(body.code), ALIYUN_PERMANENT)

    def pull(self, pending: list[tuple[str, str, str]]) -> list[DeliveryReport]:
        from alibabacloud_dysmsapi20170525 import models

        reports = []
        for biz_id, e164, sent_at in pending:
            day = clock.parse_iso(sent_at).astimezone(SHANGHAI)
            request = models.QuerySendDetailsRequest(
                phone_number=e164.removeprefix("+86"),
                send_date=f"{day:%Y%m%d}",
                page_size=10,
                current_page=1,
                biz_id=biz_id,
            )
            body = self.client().query_send_details(request).body
            details = body.sms_send_detail_dtos.sms_send_detail_dto if body.code == "OK" else []
            for detail in details or []:
                if detail.send_status in (2, 3):  # 1 is still waiting for the carrier
                    reports.append(
                        DeliveryReport(
                            biz_id,
                            delivered=detail.send_status == 3,
                            code=str(detail.err_code or ""),
                            at=_shanghai_iso(detail.receive_date),
                        )
                    )
        return reports


class TencentSmsSender(_Provider):
    """Tencent Cloud SMS: SendSms (SDK app id, sign name, template id, positional parameters),
    SerialNo back; delivery from PullSmsSendStatus (each report handed out once)."""

    provider = "tencent"
    public_endpoint = "sms.tencentcloudapi.com"
    needs_numbers = False
    PULL_LIMIT = 100

    def _new_client(self, creds: dict[str, str]) -> Any:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        host, scheme = self.endpoint
        profile = HttpProfile(endpoint=host, protocol=scheme, reqTimeout=READ_TIMEOUT_S)
        return sms_client.SmsClient(
            credential.Credential(creds["secret_id"], creds["secret_key"]),
            creds.get("region", "ap-guangzhou"),
            ClientProfile(httpProfile=profile),
        )

    def _call(self, method: str, request: Any) -> Any:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )

        try:
            return getattr(self.client(), method)(request)
        except TencentCloudSDKException as exc:
            code = str(exc.code or "")
            if not code or code in TENCENT_NETWORK:
                raise  # no answer from the provider: a fault, retried
            raise _refusal(self.provider, code, TENCENT_PERMANENT) from None

    def send(self, e164: str, message: SmsMessage, *, phone_key: str, masked: str) -> str:
        from tencentcloud.sms.v20210111 import models

        variant = self.variant(message)
        request = models.SendSmsRequest()
        request.SmsSdkAppId = self.credentials()["sdk_app_id"]
        request.SignName = self._settings.sms_sign_name
        request.TemplateId = variant.ids[self.provider]
        request.TemplateParamSet = variant.positional_params(message.variables)
        request.PhoneNumberSet = [e164]
        statuses = self._call("SendSms", request).SendStatusSet or []
        if not statuses:
            raise _refusal(self.provider, "EmptySendStatusSet", TENCENT_PERMANENT)
        status = statuses[0]
        if status.Code == "Ok" and status.SerialNo:
            return str(status.SerialNo)
        raise _refusal(self.provider, str(status.Code), TENCENT_PERMANENT)

    def pull(self, pending: list[tuple[str, str, str]]) -> list[DeliveryReport]:
        from tencentcloud.sms.v20210111 import models

        reports = []
        for _ in range(50):  # at most 5,000 reports a tick; the rest wait for the next one
            request = models.PullSmsSendStatusRequest()
            request.SmsSdkAppId = self.credentials()["sdk_app_id"]
            request.Limit = self.PULL_LIMIT
            batch = self._call("PullSmsSendStatus", request).PullSmsSendStatusSet or []
            for item in batch:
                delivered = item.ReportStatus == "SUCCESS"
                # A failure's Description carries the carrier's reason; a success says SUCCESS.
                failure = str(item.Description or item.ReportStatus or "")
                reports.append(
                    DeliveryReport(
                        str(item.SerialNo),
                        delivered=delivered,
                        code="SUCCESS" if delivered else failure,
                        at=_shanghai_iso(item.UserReceiveTime),
                    )
                )
            if len(batch) < self.PULL_LIMIT:
                break
        return reports


def _shanghai_iso(value: Any) -> str | None:
    """A provider's receive time ('2026-12-01 10:00:00' in Beijing time, or a Unix time) as
    our ISO time; None when it gives none or one we cannot read."""
    text = str(value or "").strip()
    try:
        if text.isdigit():
            return clock.iso(datetime.fromtimestamp(int(text), tz=SHANGHAI))
        return clock.iso(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)) if text else None
    except (ValueError, OverflowError):
        return None

"""Local fakes of the Alibaba Cloud (dysmsapi 2017-05-25) and Tencent Cloud (sms 2021-01-11) SMS.

A test and `make run` stand-in, never used in production. Each fake is a stdlib HTTP server on
127.0.0.1 (a free port) that speaks just enough of the provider's wire format for its official
Python SDK to be pointed at it by endpoint configuration and work unchanged:

    with FakeAliyun() as aliyun, FakeTencent(auto_deliver=True) as tencent:
        ...  # give the SDKs aliyun.endpoint / tencent.endpoint over plain http
        aliyun.fail_next("isv.BUSINESS_LIMIT_CONTROL")
        tencent.fail_with_http(503)

Calls: Alibaba `SendSms`, `QuerySendDetails`; Tencent `SendSms`, `PullSmsSendStatus`.
Signatures and credentials are accepted unchecked. Nothing is rendered: there are no templates,
so the fake records the template id and parameters it was given (see `sent`).

    python scripts/fake_sms_providers.py     # starts both, prints their endpoints
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

HOST = "127.0.0.1"
# Both providers stamp report and send times in Beijing time.
BEIJING = timezone(timedelta(hours=8))


@dataclass
class SentSms:
    """One accepted message (one per phone number of a request)."""

    provider: str
    message_id: str  # Alibaba BizId (shared by the numbers of one request) or Tencent SerialNo
    phone: str  # as the request gave it
    sign_name: str
    template: str  # TemplateCode / TemplateId
    params: dict[str, str] | list[str]
    at: float = field(default_factory=time.time)


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str


@dataclass
class _Report:
    ok: bool
    code: str
    at: float


@dataclass
class _Failure:
    kind: str  # "code" | "http" | "delay"
    code: str = ""
    status: int = 0
    raw: bool = False
    seconds: float = 0.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stalled handler must never keep the test process alive
    provider: FakeSmsProvider


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = self.server.provider._handle(self.command, self.path, headers, body)
        except Exception as exc:  # a bug in the fake must show as a 500, not a hung client
            reply = _Reply(500, f"fake crashed: {exc!r}".encode(), "text/plain")
        if reply.status < 0:  # a delayed call whose fake was stopped meanwhile: just hang up
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


class FakeSmsProvider:
    """Shared server plumbing, failure injection and bookkeeping; subclasses speak the wire."""

    name: ClassVar[str] = ""

    def __init__(
        self, auto_deliver: bool = False, port: int = 0, now: Callable[[], float] = time.time
    ) -> None:
        # `now`: the provider's clock (a test's frozen clock, so send dates agree with ours).
        self.now = now
        self.auto_deliver = auto_deliver
        self._port = port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.sent: list[SentSms] = []
        self._failures: deque[_Failure] = deque()
        self._init_state()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeSmsProvider:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((HOST, self._port), _Handler)
        server.provider = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-{self.name}-sms",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in delay_next()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeSmsProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"fake {self.name} is not started")
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        """host:port, what the SDK takes as its endpoint (with http as the protocol)."""
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    # -- test controls -----------------------------------------------------------------------

    def fail_next(self, code: str, times: int = 1) -> None:
        """The next `times` sends answer this provider error code instead of sending."""
        with self._lock:
            self._failures.extend(_Failure("code", code=code) for _ in range(times))

    def fail_with_http(self, status: int, times: int = 1, *, raw: bool = False) -> None:
        """The next `times` sends answer HTTP `status`.

        The body is what the provider's own front end sends (Alibaba: its JSON error document;
        Tencent: a plain-text page). raw=True sends plain text for both, as a proxy would.
        """
        with self._lock:
            self._failures.extend(_Failure("http", status=status, raw=raw) for _ in range(times))

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next `times` sends stall this long before being handled (to trip client timeouts)."""
        with self._lock:
            self._failures.extend(_Failure("delay", seconds=seconds) for _ in range(times))

    def deliver(self, message_id: str, ok: bool = True, code: str | None = None) -> None:
        """Add a delivery report for a sent message (all its numbers); `code` is the carrier's."""
        with self._lock:
            if not any(s.message_id == message_id for s in self.sent):
                raise KeyError(f"{self.name}: no sent message {message_id!r}")
            self._add_report(message_id, ok, code, self.now())

    def reset(self) -> None:
        with self._lock:
            self.sent.clear()
            self._failures.clear()
            self._init_state()

    # -- helpers for subclasses --------------------------------------------------------------

    def _take_failure(self) -> _Failure | None:
        """Pop this send's injected failure; a delay is served here, then the send goes on."""
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is None or failure.kind != "delay":
            return failure
        if self._stopping.wait(failure.seconds):
            return _Failure("http", status=-1)  # stopped meanwhile: hang up
        return None

    def _record(self, sms: SentSms) -> None:
        """Store an accepted message; caller holds the lock."""
        self.sent.append(sms)
        if self.auto_deliver:
            self._add_report(sms.message_id, True, None, sms.at)

    @staticmethod
    def _json(status: int, doc: Any, content_type: str) -> _Reply:
        return _Reply(status, json.dumps(doc, ensure_ascii=False).encode(), content_type)

    # -- provider specifics ------------------------------------------------------------------

    def _init_state(self) -> None:
        raise NotImplementedError

    def _add_report(self, message_id: str, ok: bool, code: str | None, at: float) -> None:
        raise NotImplementedError

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        raise NotImplementedError


def _beijing(ts: float) -> str:
    return datetime.fromtimestamp(ts, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


# ================================================================================================
# Alibaba Cloud dysmsapi (RPC style). The SDK POSTs to "/" with every parameter in the query
# string (Action/Version as x-acs-action/x-acs-version headers under the default ACS3 signature,
# as Action/Version query parameters under the older v2 signature), so both are read here.
# Business errors are HTTP 200 with another Code, which the SDK returns in the body; only
# gateway errors (missing parameter, throttling, 5xx) are HTTP errors the SDK raises.

_ALIYUN_VERSION = "2017-05-25"
_ALIYUN_JSON = "application/json;charset=utf-8"
_ALIYUN_MESSAGES = {
    "isv.BUSINESS_LIMIT_CONTROL": "触发分钟级流控Permits:1",
    "isv.DAY_LIMIT_CONTROL": "触发日发送限额",
    "isv.MOBILE_NUMBER_ILLEGAL": "非法手机号",
    "isv.MOBILE_COUNT_OVER_LIMIT": "手机号码数量超过限制",
    "isv.BLACK_KEY_CONTROL_LIMIT": "黑名单管控",
    "isv.SMS_TEMPLATE_ILLEGAL": "该账号下找不到对应模板",
    "isv.SMS_SIGNATURE_ILLEGAL": "该账号下找不到对应签名",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板变量缺少对应参数值",
    "isv.INVALID_JSON_PARAM": "JSON参数不合法，只接受字符串值",
    "isv.INVALID_PARAMETERS": "参数格式不正确",
    "isv.AMOUNT_NOT_ENOUGH": "账户余额不足",
    "isp.SYSTEM_ERROR": "系统出现错误，请重新调用",
    "Throttling.User": "Request was denied due to user flow control.",
    "ServiceUnavailable": "The request has failed due to a temporary failure of the server.",
    "InternalError": "The request processing has failed due to some unknown error.",
}
_ALIYUN_HTTP_CODES = {500: "InternalError", 502: "BadGateway", 503: "ServiceUnavailable"}
_MAINLAND = re.compile(r"1\d{10}")


def _aliyun_phone(phone: str) -> str | None:
    """The number without +/00/86 prefixes, or None if malformed.

    Mainland numbers go bare or with 86/+86/0086; others as country code + number. A number
    starting with 1 must be a full mainland one, so a dropped digit shows as illegal.
    """
    digits = phone.removeprefix("+").removeprefix("00")
    if digits.startswith("86"):
        return digits[2:] if _MAINLAND.fullmatch(digits[2:]) else None
    if _MAINLAND.fullmatch(digits) or re.fullmatch(r"[2-9]\d{7,14}", digits):
        return digits
    return None


class FakeAliyun(FakeSmsProvider):
    name: ClassVar[str] = "aliyun"

    def _init_state(self) -> None:
        self._reports: dict[str, _Report] = {}  # BizId -> the latest report
        self._out_ids: dict[str, str] = {}  # BizId -> OutId

    def _add_report(self, message_id: str, ok: bool, code: str | None, at: float) -> None:
        self._reports[message_id] = _Report(ok, code or ("DELIVERED" if ok else "MN:0001"), at)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        parts = urlsplit(path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if body and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        action = params.get("Action") or headers.get("x-acs-action", "")
        version = params.get("Version") or headers.get("x-acs-version", "")
        if parts.path != "/" or method not in ("POST", "GET"):
            return self._error(404, "InvalidAction.NotFound", "Specified api is not found.")
        if version != _ALIYUN_VERSION:
            return self._error(400, "InvalidVersion", "Specified parameter Version is not valid.")
        if action == "SendSms":
            return self._send(params)
        if action == "QuerySendDetails":
            return self._query(params)
        return self._error(404, "InvalidAction.NotFound", f"Specified api {action} is not found.")

    def _body(self, code: str, message: str | None = None, **extra: Any) -> _Reply:
        doc = {"Code": code, "Message": message or _ALIYUN_MESSAGES.get(code, code), **extra}
        doc["RequestId"] = str(uuid.uuid4()).upper()
        return self._json(200, doc, _ALIYUN_JSON)

    def _error(self, status: int, code: str, message: str | None = None) -> _Reply:
        doc = {
            "RequestId": str(uuid.uuid4()).upper(),
            "HostId": "dysmsapi.aliyuncs.com",
            "Code": code,
            "Message": message or _ALIYUN_MESSAGES.get(code, code),
            "Recommend": "",
        }
        return self._json(status, doc, _ALIYUN_JSON)

    def _missing(self, params: dict[str, str], names: tuple[str, ...]) -> _Reply | None:
        for name in names:
            if not params.get(name):
                return self._error(400, f"Missing{name}", f"{name} is mandatory for this action.")
        return None

    def _send(self, params: dict[str, str]) -> _Reply:
        failure = self._take_failure()
        if failure is not None and failure.kind == "http":
            if failure.status < 0:
                return _Reply(-1, b"", "")
            if failure.raw:
                return _Reply(failure.status, b"upstream error", "text/plain")
            code = _ALIYUN_HTTP_CODES.get(failure.status, f"Http{failure.status}")
            return self._error(failure.status, code)
        missing = self._missing(params, ("PhoneNumbers", "SignName", "TemplateCode"))
        if missing is not None:
            return missing
        phones = [p.strip() for p in params["PhoneNumbers"].split(",")]
        if len(phones) > 1000:
            return self._body("isv.MOBILE_COUNT_OVER_LIMIT")
        if not all(_aliyun_phone(p) for p in phones):
            return self._body("isv.MOBILE_NUMBER_ILLEGAL")
        template_param: dict[str, str] = {}
        if params.get("TemplateParam"):
            try:
                template_param = json.loads(params["TemplateParam"])
            except ValueError:
                return self._body("isv.INVALID_JSON_PARAM")
            if not isinstance(template_param, dict) or not all(
                isinstance(v, str) for v in template_param.values()
            ):
                return self._body("isv.INVALID_JSON_PARAM")
        if failure is not None:  # an injected code, after validation as the service would
            if failure.code.startswith(("isv.", "isp.")):
                return self._body(failure.code)
            status = {"InternalError": 500, "ServiceUnavailable": 503}.get(failure.code, 400)
            return self._error(status, failure.code)
        biz_id = f"{secrets.randbelow(10**18):018d}^0"
        at = self.now()
        with self._lock:
            for phone in phones:
                sms = SentSms(
                    self.name,
                    biz_id,
                    phone,
                    params["SignName"],
                    params["TemplateCode"],
                    dict(template_param),
                    at,
                )
                self._record(sms)
            self._out_ids[biz_id] = params.get("OutId", "")
        return self._body("OK", "OK", BizId=biz_id)

    def _query(self, params: dict[str, str]) -> _Reply:
        missing = self._missing(params, ("PhoneNumber", "SendDate", "PageSize", "CurrentPage"))
        if missing is not None:
            return missing
        try:
            day = datetime.strptime(params["SendDate"], "%Y%m%d").date()
            page_size, page = int(params["PageSize"]), int(params["CurrentPage"])
        except ValueError:
            return self._body("isv.INVALID_PARAMETERS")
        if not 1 <= page_size <= 50 or page < 1:
            return self._body("isv.INVALID_PARAMETERS")
        biz_id = params.get("BizId")
        wanted = _aliyun_phone(params["PhoneNumber"]) or params["PhoneNumber"]
        with self._lock:
            rows = [
                (s, self._reports.get(s.message_id), self._out_ids.get(s.message_id, ""))
                for s in self.sent
                if (_aliyun_phone(s.phone) or s.phone) == wanted
                and datetime.fromtimestamp(s.at, BEIJING).date() == day
                and (not biz_id or s.message_id == biz_id)
            ]
        page_rows = rows[(page - 1) * page_size : page * page_size]
        details = []
        for sms, report, out_id in page_rows:
            status = 1 if report is None else 3 if report.ok else 2
            details.append(
                {
                    "PhoneNum": sms.phone,
                    "SendStatus": status,
                    "ErrCode": "" if report is None else report.code,
                    "TemplateCode": sms.template,
                    # Not rendered (the fake has no templates): signature, template, parameters.
                    "Content": f"【{sms.sign_name}】{sms.template} "
                    + json.dumps(sms.params, ensure_ascii=False),
                    "SendDate": _beijing(sms.at),
                    "ReceiveDate": "" if report is None else _beijing(report.at),
                    "OutId": out_id,
                }
            )
        return self._body(
            "OK",
            "OK",
            TotalCount=len(rows),
            SmsSendDetailDTOs={"SmsSendDetailDTO": details},
        )


# ================================================================================================
# Tencent Cloud sms (API 3.0). The SDK POSTs JSON to "/" with the action in X-TC-Action. Every
# answer is HTTP 200: whole-request errors as Response.Error (the SDK raises
# TencentCloudSDKException, but only if Content-Type is exactly "application/json"), per-number
# failures inside SendStatusSet (the SDK returns them). Any non-200 is raised as
# "ServerNetworkError".

_TENCENT_VERSION = "2021-01-11"
_TENCENT_JSON = "application/json"  # no charset: the SDK compares the header verbatim
_TENCENT_MESSAGES = {
    "LimitExceeded.PhoneNumberDailyLimit": "单个手机号日下发短信条数超过设定的上限",
    "LimitExceeded.PhoneNumberOneHourLimit": "单个手机号1小时内下发短信条数超过设定的上限",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "单个手机号30秒内下发短信条数超过设定的上限",
    "LimitExceeded.PhoneNumberCountLimit": "调用接口单次提交的手机号个数超过200个",
    "InvalidParameterValue.IncorrectPhoneNumber": "手机号格式错误",
    "InvalidParameterValue.TemplateParameterFormatError": "验证码模板参数格式错误",
    "FailedOperation.TemplateUnapprovedOrNotExist": "模板未审批或内容不匹配",
    "FailedOperation.SignatureIncorrectOrUnapproved": "签名未审批或格式错误",
    "FailedOperation.PhoneNumberInBlacklist": "手机号在免打扰名单库中",
    "FailedOperation.InsufficientBalanceInSmsPackage": "套餐包余量不足",
    "MissingParameter.EmptyPhoneNumberSet": "传入的号码列表为空",
    "InternalError": "内部错误",
    "RequestLimitExceeded": "请求的次数超过了频率限制",
}
# Codes the service reports per number inside SendStatusSet; any other injected code is a
# whole-request Response.Error (InternalError*, RequestLimitExceeded, AuthFailure.*, ...).
_TENCENT_PER_NUMBER = ("LimitExceeded.PhoneNumber", "InvalidParameterValue.", "FailedOperation.")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
# Two-digit country codes (ITU-T E.164); 1 and 7 are one digit, the rest three.
_CC2_RANGES = (20, 27, *range(30, 35), 36, 39, 40, 41, *range(43, 50), *range(51, 59))
_CC2 = {str(n) for n in (*_CC2_RANGES, *range(60, 67), 81, 82, 84, 86, *range(90, 96), 98)}
_ISO = {"1": "US", "44": "GB", "60": "MY", "65": "SG", "81": "JP", "82": "KR", "852": "HK"}
_ISO |= {"853": "MO", "886": "TW"}


def _tencent_phone(phone: str) -> tuple[str, str, str] | None:
    """(country code, subscriber number, ISO code), or None if the number is malformed.

    Mainland numbers may come as +86…, 0086…, 86… or bare; others must be E.164 (+cc…).
    """
    for prefix in ("+86", "0086", "86", ""):
        if phone.startswith(prefix) and (prefix or phone[:1] == "1"):
            rest = phone[len(prefix) :]
            return ("86", rest, "CN") if _MAINLAND.fullmatch(rest) else None
    if not _E164.fullmatch(phone):
        return None
    digits = phone[1:]
    size = 1 if digits[0] in "17" else 2 if digits[:2] in _CC2 else 3
    return digits[:size], digits[size:], _ISO.get(digits[:size], "")


class FakeTencent(FakeSmsProvider):
    name: ClassVar[str] = "tencent"

    def _init_state(self) -> None:
        # Reports queued for PullSmsSendStatus, which hands out each one once.
        self._pending: list[dict[str, Any]] = []
        self._meta: dict[str, tuple[str, str]] = {}  # SerialNo -> (SmsSdkAppId, SessionContext)

    def _add_report(self, message_id: str, ok: bool, code: str | None, at: float) -> None:
        for sms in self.sent:
            if sms.message_id != message_id:
                continue
            parsed = _tencent_phone(sms.phone)
            country, subscriber = (parsed[0], parsed[1]) if parsed else ("", sms.phone)
            app_id, context = self._meta.get(message_id, ("", ""))
            self._pending.append(
                {
                    "AppId": app_id,  # filter key, stripped before answering
                    "UserReceiveTime": _beijing(at),
                    "CountryCode": country,
                    "SubscriberNumber": subscriber,
                    "PhoneNumber": f"+{country}{subscriber}" if parsed else sms.phone,
                    "SerialNo": message_id,
                    "ReportStatus": "SUCCESS" if ok else "FAIL",
                    "Description": code or ("用户短信送达成功" if ok else "用户短信未送达"),
                    "SessionContext": context,
                }
            )

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        action = headers.get("x-tc-action", "")
        if method != "POST" or urlsplit(path).path != "/":
            return self._error("UnsupportedOperation", "Only POST / is supported by this fake.")
        if headers.get("x-tc-version") != _TENCENT_VERSION:
            return self._error("InvalidParameterValue", "Unsupported Version, want 2021-01-11.")
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return self._error("InvalidParameter", "The request body is not valid JSON.")
        if not isinstance(params, dict):
            return self._error("InvalidParameter", "The request body must be a JSON object.")
        if action == "SendSms":
            return self._send(params)
        if action == "PullSmsSendStatus":
            return self._pull(params)
        return self._error("InvalidAction", f"The action `{action}` is not found.")

    def _ok(self, **fields: Any) -> _Reply:
        doc = {"Response": {**fields, "RequestId": str(uuid.uuid4())}}
        return self._json(200, doc, _TENCENT_JSON)

    def _error(self, code: str, message: str | None = None) -> _Reply:
        error = {"Code": code, "Message": message or _TENCENT_MESSAGES.get(code, code)}
        return self._ok(Error=error)

    def _missing(self, params: dict[str, Any], names: tuple[str, ...]) -> _Reply | None:
        for name in names:
            if params.get(name) in (None, ""):
                message = f"The request is missing a required parameter `{name}`."
                return self._error("MissingParameter", message)
        return None

    def _send(self, params: dict[str, Any]) -> _Reply:
        failure = self._take_failure()
        if failure is not None and failure.kind == "http":
            if failure.status < 0:
                return _Reply(-1, b"", "")
            page = f"<html><body><h1>{failure.status}</h1></body></html>"
            return _Reply(failure.status, page.encode(), "text/html")
        missing = self._missing(params, ("SmsSdkAppId", "TemplateId"))
        if missing is not None:
            return missing
        phones = params.get("PhoneNumberSet")
        if not phones:
            return self._error("MissingParameter.EmptyPhoneNumberSet")
        template_params = params.get("TemplateParamSet") or []
        for name, value in (("PhoneNumberSet", phones), ("TemplateParamSet", template_params)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return self._error(
                    "InvalidParameter", f"The value type of parameter `{name}` is not valid."
                )
        for name in ("SmsSdkAppId", "TemplateId", "SignName", "SessionContext"):
            if not isinstance(params.get(name, ""), str):
                return self._error(
                    "InvalidParameter", f"The value type of parameter `{name}` is not valid."
                )
        if len(phones) > 200:
            return self._error("LimitExceeded.PhoneNumberCountLimit")
        parsed = [_tencent_phone(p) for p in phones]
        # SignName is required for mainland numbers only.
        if not params.get("SignName") and any(p is not None and p[0] == "86" for p in parsed):
            return self._error("FailedOperation.SignatureIncorrectOrUnapproved")
        if failure is not None and not failure.code.startswith(_TENCENT_PER_NUMBER):
            return self._error(failure.code)
        context = params.get("SessionContext", "")
        statuses = []
        with self._lock:
            for phone, info in zip(phones, parsed, strict=True):
                code = "InvalidParameterValue.IncorrectPhoneNumber" if info is None else "Ok"
                if failure is not None and info is not None:
                    code = failure.code
                status = {
                    "SerialNo": "",
                    "PhoneNumber": phone,
                    "Fee": 0,
                    "SessionContext": context,
                    "Code": code,
                    "Message": _TENCENT_MESSAGES.get(code, code),
                    "IsoCode": info[2] if info else "",
                }
                if code == "Ok":
                    serial = f"{secrets.randbelow(10**4):04d}:{secrets.randbelow(10**28):028d}"
                    status.update(SerialNo=serial, Fee=1, Message="send success")
                    self._meta[serial] = (params["SmsSdkAppId"], context)
                    sms = SentSms(
                        self.name,
                        serial,
                        phone,
                        params.get("SignName", ""),
                        params["TemplateId"],
                        list(template_params),
                        self.now(),
                    )
                    self._record(sms)
                statuses.append(status)
        return self._ok(SendStatusSet=statuses)

    def _pull(self, params: dict[str, Any]) -> _Reply:
        missing = self._missing(params, ("SmsSdkAppId", "Limit"))
        if missing is not None:
            return missing
        limit = params["Limit"]
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
            return self._error("InvalidParameterValue", "Limit must be an integer in 1..100.")
        app_id = params["SmsSdkAppId"]
        with self._lock:
            mine = [r for r in self._pending if r["AppId"] == app_id][:limit]
            taken = {id(r) for r in mine}
            self._pending = [r for r in self._pending if id(r) not in taken]
        reports = [{k: v for k, v in r.items() if k != "AppId"} for r in mine]
        return self._ok(PullSmsSendStatusSet=reports)


def main() -> None:
    """Start both fakes (reports delivered at once) until Ctrl-C, for poking at by hand."""
    with FakeAliyun(auto_deliver=True) as aliyun, FakeTencent(auto_deliver=True) as tencent:
        for fake in (aliyun, tencent):
            print(f"{fake.name:8} endpoint {fake.endpoint}  ({fake.url})", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

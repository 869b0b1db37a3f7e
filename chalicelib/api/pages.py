"""HTML pages (zh-CN) for the person, the public, liaisons and operators; they call the JSON API.

Every page is a Jinja2 template of templates/web/ (autoescaped) plus plain JavaScript served
from /assets/: no build step, nothing fetched from another origin. Each page talks to the same
JSON API as any other client, with fetch().

Cross-site requests: the API authenticates by the `Authorization: Bearer` header only. The
pages keep the person's token or the staff key in sessionStorage and add the header in
JavaScript; recount sets no cookie at all. A cross-site form post, link or image therefore
reaches recount without any credential and cannot act as anyone (no CSRF token is needed),
and without CORS headers another site's script cannot read an answer either. Tokens and keys
never appear in a URL. The pages forbid inline script, framing and referrers (see
SECURITY_HEADERS), so an injected string cannot run and a page cannot be clickjacked.
"""

from __future__ import annotations

import functools
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import config
from chalicelib.api.http import ApiRequest, route
from chalicelib.domain.directory import KIND_TO_TYPE, load_directory
from chalicelib.domain.errors import Problem, not_found
from chalicelib.domain.insight import MIN_PUBLIC_CASES
from chalicelib.domain.phone import parse_mobile
from chalicelib.domain.workdays import SHANGHAI

if TYPE_CHECKING:
    import jinja2

bp = Blueprint(__name__)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = ROOT / "templates" / "web"
ASSET_DIR = TEMPLATE_DIR / "assets"
# Where `make run` writes the demo numbers; /dev/inbox (stage local only) lists them.
DEMO_FILE_ENV = "RECOUNT_DEMO_FILE"
DEFAULT_DEMO_FILE = ROOT / ".local" / "demo.json"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no inline script: every script is a file under /assets/
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
ASSET_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}

# -- what the pages show in Chinese (tests check every state, action, reason and code has one)
LABELS: dict[str, dict[str, str]] = {
    "state": {
        "submitted": "已提交",
        "acknowledged": "企业已受理",
        "awaiting_user": "待申诉人操作",
        "responded": "企业已答复",
        "escalated": "已升级督办",
        "resolved": "已解决",
        "disputed_closed": "有异议结案",
        "withdrawn": "已撤回",
        "expired": "已过期关闭",
        "rerouted": "已转至其他企业",
    },
    "action_on": {
        "user": "申诉人",
        "company": "企业",
        "operator": "反诈中心",
        "none": "无需操作",
    },
    "reason": {
        "not_mine": "不是我注册的账号",
        "recycled_number": "二次号码：号码以前属于别人",
        "fraud_suspected": "怀疑被冒用实施诈骗",
        "count_too_low": "查询结果比实际少",
        "family_use": "家人用我的号码注册",
        "forgot_own": "可能是我自己注册后忘了",
        "other": "其他原因",
    },
    "action": {
        "file": "提交申诉",
        "rerouted_in": "由其他企业转来",
        "acknowledge": "企业受理",
        "request_user_action": "请申诉人操作",
        "user_done": "已在企业流程中完成",
        "respond": "企业答复",
        "misrouted": "转至其他企业",
        "confirm": "确认复查结果",
        "reopen": "重新申诉",
        "disagree": "不认可并说明",
        "withdraw": "撤回",
        "sla_breach": "企业超时，升级督办",
        "remind_user": "提醒申诉人",
        "expire": "超期未操作，关闭",
        "requery_reminder": "提醒重新查询",
        "auto_resolve": "无异议，自动结案",
        "operator_followup": "督办跟进提醒",
        "resolve": "督办结案：已解决",
        "close": "督办结案：有异议",
    },
    "actor": {
        "user": "申诉人",
        "liaison": "企业",
        "operator": "反诈中心",
        "scheduler": "系统",
    },
    "response_code": {
        "accounts_unbound": "已解除账号与号码的绑定",
        "accounts_cancelled": "已注销相关账号",
        "count_confirmed": "核实账号属于本人",
        "count_corrected": "已更正查询数量",
        "fraud_closed": "涉诈账号已处置",
        "no_match": "未查到相关账号",
    },
    "confidence": {
        "confirmed": "已核实",
        "well_known": "公开常识",
        "secondary": "单一来源，未经官方核实",
        "unverified": "未经核实",
        "unknown": "暂无可靠信息",
    },
    "method": {
        "sms_code": "短信验证码",
        "face": "人脸识别",
        "id_card": "身份证",
        "business_hall": "到营业厅办理",
    },
    "kind": {
        "accounts": "互联网账号（一证通查 2.0）",
        "sim_cards": "电话卡（一证通查 1.0）",
    },
    "lane": {"standard": "普通", "fraud": "涉诈快速通道"},
    # Directory facts a liaison keeps verified (the dashboard flags those unverified too long).
    "fact": {
        "detail_query": "账号查询方法",
        "unbind": "解绑或注销方法",
        "hotline": "客服电话",
        "identity_verification": "身份核验要求",
        "number_renewal": "二次号码焕新办理方法",
    },
    "error": {
        "validation_failed": "填写的内容有误，请检查标出的项目。",
        "no_discrepancy": "期望数量与查询数量相同，无需申诉。",
        "case_already_open": "您与该企业已有一个处理中的案件，请先在申诉进度中查看。",
        "invalid_transition": "案件状态已变化，此操作现在不可用。页面已刷新。",
        "unknown_action": "不支持的操作。",
        "precondition_failed": "其他人已先一步更新了此案件。页面已重新加载，请核对后再操作。",
        "number_cancelled": "该号码已销号，无法接收验证码。请直接拨打相关企业的客服电话处理。",
        "verification_failed": "号码、验证码或身份证后六位不匹配，请核对后再试。",
        "new_code_needed": "验证码已失效（已使用、已过期或尝试次数已用完），请重新获取验证码。",
        "code_too_soon": "验证码每分钟只能获取一次，请稍后再试。",
        "daily_code_limit": "该号码今天获取验证码的次数已达上限。",
        "client_rate_limited": "请求过于频繁，请稍后再试。",
        "sms_unavailable": "短信暂时无法发送，请稍后再试。",
        "service_unavailable": "服务暂时繁忙，请稍后再试。",
        "unauthenticated": "登录已失效，请重新登录。",
        "forbidden": "此密钥无权使用本页面。",
        "not_found": "未找到相关内容。",
        "dispute_not_settled": "仍有未结案的案件，暂不能删除。",
        "idempotency_key_reused": "请求重复，请刷新页面后重试。",
        "request_in_flight": "上一次提交仍在处理中，请稍候。",
        "payload_too_large": "提交的内容过长。",
        "internal_error": "系统出现问题，请稍后再试。",
        "network": "网络连接失败，请检查网络后重试。",
    },
}


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2  # here, not at import: only page routes pay for it (cold start)

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,  # every value is escaped, whatever the template's file name
        undefined=jinja2.StrictUndefined,
    )
    # |tojson escapes <, >, & and ' for HTML; keep the labels in their declared order.
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    return env


def render(template: str, **context: Any) -> str:
    settings = config.settings()
    return (
        _environment().get_template(template).render(labels=LABELS, stage=settings.stage, **context)
    )


def html_response(body: str, status: int = 200) -> Response:
    return Response(
        body=body,
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            **SECURITY_HEADERS,
        },
    )


# -- pages ---------------------------------------------------------------------------------
@route(bp, "/", "GET", summary="Page: the person files and follows a dispute", tag="pages")
def person_page(req: ApiRequest):
    return html_response(render("person.html", page="person"))


@route(bp, "/console", "GET", summary="Page: the company liaison console", tag="pages")
def console_page(req: ApiRequest):
    return html_response(render("console.html", page="console"))


@route(bp, "/dashboard", "GET", summary="Page: the operator dashboard", tag="pages")
def dashboard_page(req: ApiRequest):
    return html_response(render("dashboard.html", page="dashboard"))


@route(bp, "/scorecard", "GET", summary="Page: the public company scorecard", tag="pages")
def scorecard_page(req: ApiRequest):
    return html_response(render("scorecard.html", page="scorecard", min_cases=MIN_PUBLIC_CASES))


@route(
    bp,
    "/dev/inbox",
    "GET",
    summary="Page: SMS sent to the demo numbers (stage local only)",
    tag="dev",
    errors=(404,),
)
def dev_inbox(req: ApiRequest):
    settings = config.settings()
    if not settings.is_local:
        raise not_found("route")
    return html_response(render("inbox.html", page="inbox", phones=_inbox(settings)))


def _demo_subscribers() -> list[dict[str, Any]]:
    path = Path(os.environ.get(DEMO_FILE_ENV) or DEFAULT_DEMO_FILE)
    try:
        demo = json.loads(path.read_text(encoding="utf-8"))
        return [s for s in demo.get("subscribers", []) if isinstance(s.get("phone"), str)]
    except (OSError, ValueError, AttributeError):
        return []


def _inbox(settings: config.Settings) -> list[dict[str, Any]]:
    """Each demo number with what the embedded AWS "sent" to it, newest first."""
    from chalicelib.services import dev_inbox

    phones = []
    for subscriber in _demo_subscribers():
        try:
            number = parse_mobile(subscriber["phone"])
        except Problem:
            continue
        messages = [
            {"body": m["body"], "sent_at": _shanghai(m["sent_at"])}
            for m in dev_inbox.sent_to(settings, number.e164, newest_first=True)
        ]
        phones.append(
            {
                "phone": subscriber["phone"],
                "id_last6": subscriber.get("id_last6", ""),
                "status": subscriber.get("status", ""),
                "messages": messages,
            }
        )
    return phones


def _shanghai(iso: str) -> str:
    try:
        moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return iso
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M:%S")


# -- assets --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _asset(name: str) -> tuple[str, str] | None:
    suffix = Path(name).suffix
    allowed = {p.name for p in ASSET_DIR.iterdir() if p.suffix in ASSET_TYPES}
    if name not in allowed:  # a fixed list: no path ever reaches the file system unchecked
        return None
    return (ASSET_DIR / name).read_text(encoding="utf-8"), ASSET_TYPES[suffix]


@route(
    bp,
    "/assets/{name}",
    "GET",
    summary="The pages' stylesheet and scripts",
    tag="pages",
    errors=(404,),
)
def asset(req: ApiRequest):
    found = _asset(req.params["name"])
    if found is None:
        raise not_found("asset")
    body, content_type = found
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": content_type,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )


# -- the directory, for the dispute form ---------------------------------------------------
@route(
    bp,
    "/v1/directory",
    "GET",
    summary="Companies and carriers a dispute may name, and the reasons it may give",
    tag="directory",
)
def directory(req: ApiRequest):
    entries = load_directory().entries.values()
    kind_of = {entry_type: kind for kind, entry_type in KIND_TO_TYPE.items()}
    return Response(
        body=json.dumps(
            {
                "kinds": [{"kind": k, "label": v} for k, v in LABELS["kind"].items()],
                "reasons": [{"reason": k, "label": v} for k, v in LABELS["reason"].items()],
                "entries": [
                    {
                        "key": e.key,
                        "type": e.type,
                        "kind": kind_of[e.type],
                        "name_zh": e.name_zh,
                        "name_en": e.name_en,
                        "apps": [{"zh": zh, "en": en} for zh, en in e.apps],
                    }
                    for e in entries
                ],
            },
            ensure_ascii=False,
        ),
        status_code=200,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "public, max-age=300",
        },
    )

"""`make run`: the whole recount service on this machine (docs/design.md §9).

1. starts moto server on 127.0.0.1 as the embedded AWS (MOTO_PORT, default 5001), its
   DynamoDB serialised (scripts/local_servers.py);
2. creates the tables, the KMS key and its alias, seeds the demo subscribers and issues demo
   operator and liaison keys, and writes them to .local/demo.json;
3. serves the API and pages with `chalice local --stage local` on 127.0.0.1 (PORT, default
   8000), with a listen backlog that takes bursts, and a wrong path or method answered as the
   deployed API Gateway answers it (404 `route_not_found`, 405 `method_not_allowed`);
4. pumps the scheduler and the outbox dispatcher every few seconds (see `pump_once`).

SMS_PROVIDER=aliyun make run (or tencent) sends every SMS through that provider's official SDK
to a loopback fake of its API (scripts/fake_sms_providers.py, every message reported delivered),
with demo credentials in the embedded Secrets Manager; /dev/sms shows the texts either way.

RECOUNT_DEMO_CLOCK_SPEED=3600 make run makes the service's clock run 3600 times faster (one
hour per second) in both processes, so deadlines, reminders and escalations can be walked
through in minutes (see `prepare_demo_clock`).

Ctrl-C (or SIGTERM) stops both servers and exits 0. If either server dies, the other is
stopped and the exit status is non-zero. Standard library and the project's own dependencies
only; everything AWS goes to the local moto server, never to a real account.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.config import Settings

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # scripts/stage_config.py, chalicelib
    sys.path.insert(0, str(ROOT))
LOCAL_DIR = ROOT / ".local"
DEMO_FILE = LOCAL_DIR / "demo.json"
MOTO_LOG = LOCAL_DIR / "moto_server.log"

HOST = "127.0.0.1"
STAGE = "local"
REGION = "ap-east-1"
DEFAULT_MOTO_PORT = 5001
DEFAULT_API_PORT = 8000
MOTO_START_TIMEOUT_S = 30.0
API_START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
PUMP_INTERVAL_S = 2.0
# Read by chalicelib/domain/clock.py (stage local only) in every process that is given them.
DEMO_CLOCK_SPEED_ENV = "RECOUNT_DEMO_CLOCK_SPEED"
# The real instant the demo clock starts from, the same for every process of one `make run`.
DEMO_CLOCK_EPOCH_ENV = "RECOUNT_DEMO_CLOCK_EPOCH"
MAX_DEMO_CLOCK_SPEED = 1_000_000.0
KEPT_ENDPOINTS = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS")

# (national number, ID last 6, status, carrier): what the number registry stand-in answers.
DEMO_SUBSCRIBERS: tuple[tuple[str, str, str, str], ...] = (
    ("13800138000", "12345X", "active", "China Mobile"),
    ("18612345678", "100234", "active", "China Unicom"),
    ("13700137000", "111111", "cancelled", "China Mobile"),
)

log = logging.getLogger("local_run")


class StartupError(Exception):
    """A problem the developer can fix (busy port, missing tool); printed without a traceback."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: shut down cleanly and exit 0."""


# --- configuration ---------------------------------------------------------------------------


def port_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise StartupError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise StartupError(f"{name}={port} is not between 1 and 65535")
    return port


def stage_variables(stage: str = STAGE) -> dict[str, str]:
    """The stage's variables from .chalice/config.json (scripts/stage_config.py)."""
    from scripts import stage_config

    try:
        return stage_config.stage_variables(stage)
    except stage_config.UnknownStage as unknown:
        raise StartupError(unknown.args[0]) from None


def configure_environment(moto_port: int) -> dict[str, str]:
    """Points this process and its children at the local moto server, never at real AWS."""
    # A developer's shell may hold real credentials, a profile or per-service endpoints. Only
    # DynamoDB's may stay: `make conformance` points it at DynamoDB Local on loopback.
    for name in list(os.environ):
        kept = name in KEPT_ENDPOINTS and os.environ[name].startswith(f"http://{HOST}:")
        if (name.startswith("AWS_ENDPOINT_URL_") and not kept) or name in (
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        ):
            del os.environ[name]
    no_proxy = ",".join(
        filter(None, [os.environ.get("NO_PROXY") or os.environ.get("no_proxy"), HOST, "localhost"])
    )
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://{HOST}:{moto_port}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            # Ignore ~/.aws entirely: nothing in it may redirect or sign for a real account.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "NO_PROXY": no_proxy,
            "no_proxy": no_proxy,
            "PYTHONUNBUFFERED": "1",
            **stage_variables(),
        }
    )
    return dict(os.environ)


# --- demo clock ------------------------------------------------------------------------------


def demo_clock_speed(environ: dict[str, str] | None = None) -> float | None:
    """RECOUNT_DEMO_CLOCK_SPEED as a factor above 1, or None when unset (real time)."""
    raw = (environ if environ is not None else os.environ).get(DEMO_CLOCK_SPEED_ENV, "").strip()
    if not raw:
        return None
    try:
        speed = float(raw)
    except ValueError:
        raise StartupError(f"{DEMO_CLOCK_SPEED_ENV}={raw!r} is not a number") from None
    if not 1 <= speed <= MAX_DEMO_CLOCK_SPEED:
        raise StartupError(
            f"{DEMO_CLOCK_SPEED_ENV}={raw} must be between 1 and {MAX_DEMO_CLOCK_SPEED:.0f}"
        )
    return None if speed == 1 else speed


def prepare_demo_clock(env: dict[str, str]) -> float | None:
    """Checks the speed and fixes one epoch for the pump (this process) and the API process
    (`env`), so both read the same demo time; then installs the clock here."""
    speed = demo_clock_speed(env)
    if speed is None:
        return None
    if not env.get(DEMO_CLOCK_EPOCH_ENV):
        epoch = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        env[DEMO_CLOCK_EPOCH_ENV] = epoch
    os.environ[DEMO_CLOCK_SPEED_ENV] = env[DEMO_CLOCK_SPEED_ENV]
    os.environ[DEMO_CLOCK_EPOCH_ENV] = env[DEMO_CLOCK_EPOCH_ENV]
    install_demo_clock()
    return speed


def install_demo_clock() -> float | None:
    """This process's clock, from the environment (chalicelib.domain.clock.from_environment
    honours the demo speed in stage local only; chalicelib.config stretches code and session
    lifetimes by the same speed). The API process reads the same variables by itself."""
    speed = demo_clock_speed()
    if speed is None:
        return None
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from chalicelib.domain import clock

    clock.use(clock.from_environment())
    return speed


# --- processes -------------------------------------------------------------------------------


def ensure_port_free(port: int, what: str, env_name: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise StartupError(
                f"{what} cannot listen on {HOST}:{port}: {exc.strerror or exc}. "
                f"Stop whatever uses that port (is `make run` already running?) "
                f"or choose another one: {env_name}=<port> make run"
            ) from None


def autoreload_flag() -> str:
    """chalice's stat()-based reloader walks the whole tree, .venv included, every second:
    off by default; RECOUNT_AUTORELOAD=1 turns it on (moto keeps the data across reloads)."""
    return "--autoreload" if os.environ.get("RECOUNT_AUTORELOAD") == "1" else "--no-autoreload"


def venv_tool(name: str) -> str | None:
    """A console script installed next to this interpreter (.venv/bin), else one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


LOCAL_SERVERS = ROOT / "scripts" / "local_servers.py"


def moto_command(port: int) -> list[str]:
    """moto server with DynamoDB's per-request atomicity (scripts/local_servers.py says why)."""
    return [sys.executable, str(LOCAL_SERVERS), "moto", "-H", HOST, "-p", str(port)]


def api_command(port: int) -> list[str]:
    """`chalice local` for this stage, with a listen backlog that takes a burst, answering
    what API Gateway answers itself as the deployed API does (scripts/local_servers.py)."""
    return [
        sys.executable,
        str(LOCAL_SERVERS),
        "api",
        "local",
        "--stage",
        STAGE,
        "--host",
        HOST,
        "--port",
        str(port),
        autoreload_flag(),
    ]


def shown(path: Path) -> str:
    """A path as a message names it: from the checkout's root when it is inside it (the tests
    keep their stacks' logs in a scratch folder)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_file: Path | None = None

    def running(self) -> bool:
        return self.process.poll() is None

    def describe_exit(self) -> str:
        rc = self.process.returncode
        how = f"was killed by signal {-rc}" if rc is not None and rc < 0 else f"exited with {rc}"
        where = f"; see {shown(self.log_file)}" if self.log_file else ""
        return f"{self.name} {how}{where}"


def start_child(
    name: str, argv: Sequence[str], env: dict[str, str], log_file: Path | None
) -> Child:
    log.info("starting %s: %s", name, " ".join(argv))
    out: Any = None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        out = log_file.open("wb")
    try:
        # A session of its own: Ctrl-C in the terminal reaches only this script, which stops
        # each child's whole process group in order (chalice's reloader forks a worker).
        process = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
            start_new_session=True,
        )
    finally:
        if out is not None:
            out.close()
    return Child(name, process, log_file)


def _signal_group(child: Child, sig: int) -> bool:
    """Signals the child's process group; False when nothing of it is left."""
    try:
        os.killpg(child.process.pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def stop_children(children: Sequence[Child], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM every child's process group, wait, then SIGKILL whatever is left."""
    for child in reversed(children):
        if child.running():
            log.info("stopping %s (pid %s)", child.name, child.process.pid)
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0fs; killing it", child.name, timeout)
            _signal_group(child, signal.SIGKILL)
            child.process.wait()
        # Anything the leader left behind in its group (e.g. a reloader's worker).
        while _signal_group(child, 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        _signal_group(child, signal.SIGKILL)


def wait_until_answering(
    url: str, child: Child, timeout: float, ok: Callable[[int], bool] = lambda status: True
) -> None:
    """Polls `url` until it answers with a status `ok` accepts, the child dies, or time is up."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    deadline = time.monotonic() + timeout
    while True:
        if not child.running():
            raise StartupError(f"{child.describe_exit()} while starting")
        try:
            with opener.open(url, timeout=2) as reply:
                status = reply.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (OSError, urllib.error.URLError):
            status = None
        if status is not None and ok(status):
            return
        if time.monotonic() > deadline:
            raise StartupError(f"{child.name} did not answer {url} within {timeout:.0f}s")
        time.sleep(0.25)


# --- provisioning ----------------------------------------------------------------------------


def ensure_kms_key(settings: Settings) -> None:
    from chalicelib.adapters import aws

    kms = aws.client("kms", settings.region)
    try:
        kms.describe_key(KeyId=settings.kms_key_id)
        log.info("KMS key %s exists", settings.kms_key_id)
        return
    except kms.exceptions.NotFoundException:
        pass
    if not settings.kms_key_id.startswith("alias/"):
        raise StartupError(f"RECOUNT_KMS_KEY_ID={settings.kms_key_id} must be an alias locally")
    key_id = kms.create_key(Description=f"recount {settings.stage}: SMS recipients")["KeyMetadata"][
        "KeyId"
    ]
    try:
        kms.create_alias(AliasName=settings.kms_key_id, TargetKeyId=key_id)
    except kms.exceptions.AlreadyExistsException:
        log.info("KMS alias %s exists", settings.kms_key_id)
        return
    log.info("created KMS key %s", settings.kms_key_id)


SMS_PROVIDERS = ("sns", "aliyun", "tencent")
# Demo credentials for the fakes, which check none: no real key is ever needed locally.
DEMO_SMS_CREDENTIALS = {
    "aliyun": {"access_key_id": "LTAI-local-demo", "access_key_secret": "local-demo"},
    "tencent": {
        "secret_id": "AKID-local-demo",
        "secret_key": "local-demo",
        "sdk_app_id": "1400000000",
    },
}


def sms_provider(environ: dict[str, str] | None = None) -> str:
    """SMS_PROVIDER: sns (the default), aliyun or tencent."""
    name = (environ if environ is not None else os.environ).get("SMS_PROVIDER", "").strip()
    name = name.lower() or "sns"
    if name not in SMS_PROVIDERS:
        raise StartupError(f"SMS_PROVIDER={name}: use one of {', '.join(SMS_PROVIDERS)}")
    return name


def start_sms_fake(provider: str, env: dict[str, str]) -> Any:
    """The provider's loopback fake, and the variables that point the service at it."""
    from chalicelib.domain import clock
    from scripts.fake_sms_providers import FakeAliyun, FakeTencent

    fake_class = FakeAliyun if provider == "aliyun" else FakeTencent
    # Its clock is the service's (the demo clock too), so its send dates agree with ours.
    fake = fake_class(auto_deliver=True, now=lambda: clock.now().timestamp()).start()
    for values in (env, os.environ):
        values["RECOUNT_SMS_PROVIDER"] = provider
        values["RECOUNT_SMS_ENDPOINT"] = fake.endpoint
    return fake


def store_sms_credentials(settings: Settings) -> None:
    """The demo credentials in the embedded Secrets Manager, where a deployed stage keeps the
    provider's real ones (docs/operations.md)."""
    from chalicelib.adapters import aws

    secrets = aws.client("secretsmanager", settings.region)
    value = json.dumps(DEMO_SMS_CREDENTIALS[settings.sms_provider])
    try:
        secrets.create_secret(Name=settings.sms_secret, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=settings.sms_secret, SecretString=value)


def provision(settings: Settings, base_url: str) -> dict[str, Any]:
    """Tables, KMS key, demo subscribers and keys; returns the demo.json document."""
    from chalicelib.adapters import tables
    from chalicelib.adapters.registry import registry
    from chalicelib.domain.directory import load_directory
    from chalicelib.services import keys

    tables.create_all(settings)  # skips tables that exist
    tables.bind(settings)
    log.info("tables ready (prefix %s)", settings.table_prefix)
    ensure_kms_key(settings)

    if settings.sms_provider != "sns":
        store_sms_credentials(settings)
    numbers = registry(settings)
    for phone, id_last6, status, carrier in DEMO_SUBSCRIBERS:
        numbers.enrol("+86" + phone, id_last6, status, carrier)

    directory = load_directory()
    operator = keys.issue("operator", None, "demo operator")
    companies = [*directory.companies(), *directory.carriers()]
    liaison = {
        company: keys.issue("liaison", company, f"demo {company}")["key"] for company in companies
    }
    return {
        "webhook_secrets": register_demo_webhooks(settings, base_url, companies),
        "base_url": base_url,
        "subscribers": [
            {"phone": phone, "id_last6": id_last6, "status": status}
            for phone, id_last6, status, _ in DEMO_SUBSCRIBERS
        ],
        "operator_key": operator["key"],
        "liaison_keys": liaison,
    }


def register_demo_webhooks(settings: Settings, base_url: str, companies: list[str]) -> dict:
    """Every demo company's endpoint at its own demo receiver (/dev/webhooks/{company}, which
    verifies each signature); their secrets, as each company would keep them."""
    from chalicelib.domain.actors import Actor
    from chalicelib.services import webhooks

    secrets = {}
    for company in companies:
        url = f"{base_url}/dev/webhooks/{company}"
        view, _ = webhooks.put_endpoint(settings, Actor("liaison", company=company), {"url": url})
        secrets[company] = view.get("secret")
    return secrets


def write_demo(demo: dict[str, Any]) -> None:
    LOCAL_DIR.mkdir(exist_ok=True)
    tmp = DEMO_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(demo, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o600)  # holds working keys, even if only for the local stage
    tmp.replace(DEMO_FILE)


def summary(demo: dict[str, Any], speed: float | None = None) -> str:
    base = demo["base_url"]
    clock_line = (
        f"\n  demo clock      {speed:g}x real time ({DEMO_CLOCK_SPEED_ENV}); codes and sessions"
        " still last minutes\n"
        if speed
        else ""
    )
    subscribers = "\n".join(
        f"    {s['phone']}  ID last 6 {s['id_last6']}  ({s['status']})" for s in demo["subscribers"]
    )
    return f"""
recount is running (stage {STAGE}) — Ctrl-C stops it.

  API and pages   {base}        OpenAPI: {base}/openapi.json
  demo numbers
{subscribers}
  keys            {DEMO_FILE.relative_to(ROOT)} (operator key and one liaison key per company)
  SMS "sent"      BASE={base}
                  curl "$BASE/dev/sms?phone=13800138000"   or open $BASE/dev/inbox
  webhooks        every demo company's, verified by its demo receiver:
                  curl "$BASE/dev/webhooks/jd"   (secrets: webhook_secrets in the keys file)
  pages           {base}/  {base}/console  {base}/dashboard
{clock_line}"""


# --- scheduler and dispatcher pump -----------------------------------------------------------


def pump_once(settings: Settings) -> None:
    """One local turn of the background work AWS runs on its own: `chalice local` serves HTTP
    only, so the scheduler tick (due timers, then due SMS — the outbox stream's work too) and
    the statistics aggregator (reading the audit stream) are pumped here every
    PUMP_INTERVAL_S seconds from a background thread."""
    from chalicelib.adapters import tables
    from chalicelib.services import local_stream_pump, scheduler

    tables.bind(settings)
    counts = scheduler.tick(settings)
    counts["stats_counted"] = local_stream_pump.pump_audit_stream(settings)
    if any(counts.values()):
        log.info("pump: %s", ", ".join(f"{k}={v}" for k, v in counts.items() if v))


def pump_forever(settings: Settings, stop: threading.Event) -> None:
    while not stop.wait(PUMP_INTERVAL_S):
        try:
            pump_once(settings)
        except Exception:  # never fatal: log and try again on the next turn
            log.exception("pump_once failed; retrying in %.0fs", PUMP_INTERVAL_S)


# --- main ------------------------------------------------------------------------------------


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


def _read_tail(path: Path | None, lines: int = 15) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "\n".join("    " + line for line in text)


def run() -> int:
    moto_port = port_from_env("MOTO_PORT", DEFAULT_MOTO_PORT)
    api_port = port_from_env("PORT", DEFAULT_API_PORT)
    if moto_port == api_port:
        raise StartupError(f"MOTO_PORT and PORT are both {api_port}; choose two ports")
    ensure_port_free(moto_port, "moto server", "MOTO_PORT")
    ensure_port_free(api_port, "the API (chalice local)", "PORT")

    if venv_tool("moto_server") is None or venv_tool("chalice") is None:
        raise StartupError("moto_server or chalice is not installed; run `make run`, not python")

    provider = sms_provider()
    env = configure_environment(moto_port)
    speed = prepare_demo_clock(env)  # the pump's clock; the API process's is set up alike
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from chalicelib import config

    sms_fake = start_sms_fake(provider, env) if provider != "sns" else None
    settings = config.settings()
    base_url = f"http://{HOST}:{api_port}"

    children: list[Child] = []
    stop_pump = threading.Event()
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        moto = start_child("moto server", moto_command(moto_port), env, MOTO_LOG)
        children.append(moto)
        wait_until_answering(f"http://{HOST}:{moto_port}/moto-api/", moto, MOTO_START_TIMEOUT_S)
        log.info("moto server answers on %s:%s", HOST, moto_port)

        demo = provision(settings, base_url)
        write_demo(demo)
        log.info("wrote %s", DEMO_FILE.relative_to(ROOT))

        api = start_child("chalice local", api_command(api_port), env, None)
        children.append(api)
        wait_until_answering(
            f"{base_url}/v1/healthz", api, API_START_TIMEOUT_S, ok=lambda status: status == 200
        )
        threading.Thread(
            target=pump_forever, args=(settings, stop_pump), name="pump", daemon=True
        ).start()
        print(summary(demo, speed), flush=True)
        if sms_fake is not None:
            print(f"  SMS provider    {provider}, a local fake on {sms_fake.url}\n", flush=True)

        while True:
            for child in children:
                if not child.running():
                    others = [c.name for c in children if c is not child]
                    log.error("%s; stopping %s", child.describe_exit(), ", ".join(others))
                    tail = _read_tail(child.log_file)
                    if tail:
                        log.error("last lines of its log:\n%s", tail)
                    return 1
            time.sleep(0.5)
    except Interrupted as why:
        log.info("%s received; shutting down", why)
        return 0
    except StartupError as exc:
        log.error("%s", exc)
        for child in children:
            tail = _read_tail(child.log_file) if not child.running() else ""
            if tail:
                log.error("last lines of %s:\n%s", shown(child.log_file), tail)
        return 1
    finally:
        # No second Ctrl-C may cut the clean-up short; it is bounded by STOP_TIMEOUT_S anyway.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_pump.set()
        stop_children(children)
        if sms_fake is not None:
            sms_fake.stop()
        if children:
            log.info("stopped")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="local_run: %(message)s", stream=sys.stderr)
    # botocore and PynamoDB are chatty at INFO; their warnings still show.
    for noisy in ("botocore", "pynamodb", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return run()
    except StartupError as exc:
        log.error("%s", exc)
        return 1
    except Interrupted:
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""The SSRF-safe webhook POST (chalicelib/adapters/webhook_http.py): real HTTP and HTTPS
against tiny servers on 127.0.0.1, and refusals that must happen before any connection.
Nothing here reaches beyond loopback: "public" addresses only ever meet `address_refusal`
or a resolver whose answer is refused before connecting."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest

from chalicelib.adapters import webhook_http
from chalicelib.adapters.webhook_http import address_refusal, check_url, post

PUBLIC_V4 = "93.184.215.14"  # a global address; never connected to
PUBLIC_V6 = "2606:4700:4700::1111"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    port: int
    requests: list[Seen] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        state: Server = self.server.state
        state.requests.append(Seen("POST", self.path, dict(self.headers.items()), body))
        route = self.path.split("?")[0]
        if route == "/slow":
            state.release.wait(5)
        if route == "/dribble":
            # Headers one line at a time: each read is quick, the whole answer never ends.
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for i in range(60):
                if state.release.wait(0.05):
                    break
                self.wfile.write(b"X-Drip-%d: .\r\n" % i)
                self.wfile.flush()
            self.close_connection = True
            return
        status, extra, content = {
            "/ok": (200, {}, b"thanks"),
            "/fail": (500, {}, b"boom"),
            "/redirect": (302, {"Location": "/target"}, b""),
            "/target": (200, {}, b"followed"),
            "/slow": (200, {}, b"late"),
            "/big": (200, {}, b"x" * 100_000),
            "/binary": (200, {}, b"ok \xff\xfe done"),
            "/latin": (200, {"Content-Type": "text/plain; charset=latin-1"}, b"caf\xe9"),
        }.get(route, (404, {}, b"no"))
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if route == "/big" and "close" in self.path:
            # No Content-Length: the body ends when the server closes, and http.client closes
            # its connection object before the body is read.
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client read what it wanted and left
            self.wfile.write(content)


def serve(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Server(port=httpd.server_address[1])
    if tls is not None:

        def note_sni(_sock: Any, name: str | None, _ctx: Any) -> None:
            state.sni.append(name)

        tls.sni_callback = note_sni
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(2)


@pytest.fixture
def server() -> Iterator[Server]:
    yield from serve()


@pytest.fixture
def no_connect(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records (and refuses) every outbound connection attempt."""
    attempts: list[Any] = []

    def refuse(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address)
        raise AssertionError(f"connection attempted to {address}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


class NotedSocket:
    """A connected socket that notes every timeout the client gives it."""

    def __init__(self, sock: socket.socket, noted: list[float]) -> None:
        self._sock = sock
        self._noted = noted

    def settimeout(self, value: float) -> None:
        self._noted.append(value)
        self._sock.settimeout(value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


@pytest.fixture
def timeouts(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The timeouts each connection is given, in order: connect's, then every send and read's
    (plain HTTP: a TLS socket must be a real one)."""
    noted: list[float] = []
    real = socket.create_connection

    def connect(address: Any, timeout: float, *args: Any, **kwargs: Any) -> Any:
        noted.append(timeout)
        return NotedSocket(real(address, timeout, *args, **kwargs), noted)

    monkeypatch.setattr(socket, "create_connection", connect)
    return noted


def resolver(answers: dict[str, list[str]]) -> tuple[Callable[[str, int], list[str]], list[Any]]:
    calls: list[Any] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return answers[host]

    return resolve, calls


def never_resolve(host: str, port: int) -> list[str]:
    raise AssertionError(f"resolved {host}")


# --- HTTP against a local server (stage `local`) --------------------------------------------


def test_a_2xx_is_delivered_with_body_and_headers(server: Server) -> None:
    url = f"http://127.0.0.1:{server.port}/ok?attempt=1"
    headers = {"webhook-id": "msg_1", "webhook-signature": "v1,abc", "Host": "evil.example"}
    result = post(url, b'{"a": 1}', headers, allow_private=True)

    assert (result.status, result.error, result.body, result.delivered) == (
        200,
        None,
        "thanks",
        True,
    )
    assert 0 <= result.latency_ms < 5000
    [seen] = server.requests
    assert (seen.path, seen.body) == ("/ok?attempt=1", b'{"a": 1}')
    assert seen.headers["webhook-id"] == "msg_1"
    assert seen.headers["webhook-signature"] == "v1,abc"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"] == "recount-webhooks/1"
    assert seen.headers["Host"] == f"127.0.0.1:{server.port}"  # the caller's Host is ignored


def test_the_name_goes_in_the_host_header_and_is_resolved_once(server: Server) -> None:
    resolve, calls = resolver({"hooks.test": ["127.0.0.1"]})
    headers = {"Content-Type": "application/webhook+json", "User-Agent": "custom/2"}
    result = post(
        f"http://hooks.test:{server.port}/ok", b"{}", headers, allow_private=True, resolve=resolve
    )

    assert result.delivered
    assert calls == [("hooks.test", server.port)]
    [seen] = server.requests
    assert seen.headers["Host"] == f"hooks.test:{server.port}"
    assert seen.headers["Content-Type"] == "application/webhook+json"
    assert seen.headers["User-Agent"] == "custom/2"


def test_the_first_address_that_connects_is_used(server: Server) -> None:
    # Nothing listens on [::1] at this port (the server is on 127.0.0.1 only): refused, next.
    resolve, _ = resolver({"hooks.test": ["::1", "127.0.0.1"]})
    url = f"http://hooks.test:{server.port}/ok"
    result = post(url, b"{}", {}, allow_private=True, resolve=resolve)
    assert result.delivered
    assert len(server.requests) == 1


def test_a_5xx_is_a_status_not_an_error(server: Server) -> None:
    result = post(f"http://127.0.0.1:{server.port}/fail", b"{}", {}, allow_private=True)
    assert (result.status, result.error, result.body, result.delivered) == (
        500,
        None,
        "boom",
        False,
    )


def test_a_redirect_is_not_followed(server: Server) -> None:
    result = post(f"http://127.0.0.1:{server.port}/redirect", b"{}", {}, allow_private=True)
    assert (result.status, result.error, result.delivered) == (302, None, False)
    assert [s.path for s in server.requests] == ["/redirect"]


def test_a_slow_server_times_out(server: Server, timeouts: list[float]) -> None:
    result = post(
        f"http://127.0.0.1:{server.port}/slow", b"{}", {}, allow_private=True, timeout=0.3
    )
    assert (result.status, result.error, result.delivered) == (None, "timeout", False)
    assert [s.path for s in server.requests] == ["/slow"]  # sent, and the answer never came
    # The call's own budget, not a default: connecting and every send and read got at most it.
    assert timeouts and all(0 < t <= 0.3 for t in timeouts), timeouts


def test_the_timeout_bounds_the_whole_answer_not_each_read(
    server: Server, timeouts: list[float]
) -> None:
    result = post(
        f"http://127.0.0.1:{server.port}/dribble", b"{}", {}, allow_private=True, timeout=0.3
    )
    # With 0.3 s afresh for each read, the lines (one every 0.05 s) would never let it time out.
    assert (result.status, result.error) == (None, "timeout")
    # Each step is given only what is left of the budget: less and less, never the whole again.
    assert timeouts[0] <= 0.3 and len(timeouts) >= 2, timeouts
    assert all(later < earlier for earlier, later in pairwise(timeouts)), timeouts


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_closed_port_is_a_connection_failure() -> None:
    result = post(f"http://127.0.0.1:{closed_port()}/", b"{}", {}, allow_private=True)
    assert (result.status, result.error, result.body) == (None, "connection_failed", "")


@pytest.mark.parametrize("path", ["/big", "/big?close"])
def test_a_large_body_is_capped(server: Server, path: str) -> None:
    result = post(f"http://127.0.0.1:{server.port}{path}", b"{}", {}, allow_private=True)
    assert (result.status, result.body) == (200, "x" * 1024)


def test_bodies_are_decoded_leniently(server: Server) -> None:
    binary = post(f"http://127.0.0.1:{server.port}/binary", b"{}", {}, allow_private=True)
    latin = post(f"http://127.0.0.1:{server.port}/latin", b"{}", {}, allow_private=True)
    assert binary.body == "ok \ufffd\ufffd done"
    assert latin.body == "café"


def test_https_to_a_server_that_is_not_tls_fails_tls(server: Server) -> None:
    result = post(f"https://127.0.0.1:{server.port}/ok", b"{}", {}, allow_private=True)
    assert (result.status, result.error) == (None, "tls_failed")


def test_a_bad_header_value_is_the_callers_bug(server: Server) -> None:
    with pytest.raises(ValueError):
        post(
            f"http://127.0.0.1:{server.port}/ok",
            b"{}",
            {"webhook-id": "a\r\nX-Injected: 1"},
            allow_private=True,
        )


# --- HTTPS: SNI and certificate checked against the name, not the address -------------------


@dataclass(frozen=True)
class Pki:
    client: ssl.SSLContext
    server: ssl.SSLContext


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway CA and a certificate for hooks.test only."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> Any:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("recount test CA"))
        .issuer_name(name("recount test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("hooks.test"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    folder = tmp_path_factory.mktemp("pki")
    (folder / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(folder / "leaf.pem", folder / "key.pem")
    client_ctx = ssl.create_default_context(cadata=ca.public_bytes(pem).decode())
    return Pki(client=client_ctx, server=server_ctx)


@pytest.fixture
def tls_server(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setattr(webhook_http, "_tls_context", lambda: pki.client)
    yield from serve(pki.server)


def test_https_sends_sni_and_checks_the_certificate_of_the_name(tls_server: Server) -> None:
    resolve, calls = resolver({"hooks.test": ["127.0.0.1"]})
    url = f"https://hooks.test:{tls_server.port}/ok"
    result = post(url, b"{}", {}, allow_private=True, resolve=resolve)

    assert (result.status, result.error) == (200, None)
    assert len(calls) == 1
    assert tls_server.sni == ["hooks.test"]
    assert tls_server.requests[0].headers["Host"] == f"hooks.test:{tls_server.port}"


@pytest.mark.parametrize("host", ["other.test", "127.0.0.1"])
def test_a_certificate_for_another_name_fails_tls(tls_server: Server, host: str) -> None:
    resolve, _ = resolver({"other.test": ["127.0.0.1"]})
    url = f"https://{host}:{tls_server.port}/ok"
    result = post(url, b"{}", {}, allow_private=True, resolve=resolve)
    assert (result.status, result.error) == (None, "tls_failed")
    assert tls_server.requests == []


def test_production_path_end_to_end(tls_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """allow_private=False all the way to a response: only the vetting is told that this one
    loopback address is public, so the pinned connection, SNI and certificate are exercised."""
    real = webhook_http.address_refusal
    monkeypatch.setattr(
        webhook_http, "address_refusal", lambda ip: None if ip == "127.0.0.1" else real(ip)
    )
    resolve, calls = resolver({"hooks.test": ["127.0.0.1"]})
    url = f"https://hooks.test:{tls_server.port}/ok"
    assert check_url(url, allow_private=False) is None
    result = post(url, b'{"n": 1}', {"webhook-id": "m"}, allow_private=False, resolve=resolve)

    assert (result.status, result.error, result.body) == (200, None, "thanks")
    assert len(calls) == 1
    assert tls_server.requests[0].body == b'{"n": 1}'


# --- refusals before any connection (every stage but `local`) -------------------------------

REFUSED_URLS = [
    ("https://127.0.0.1/", "loopback"),
    ("https://10.0.0.1/", "private"),
    ("https://192.168.1.1", "private"),
    ("https://172.16.0.1", "private"),
    ("https://169.254.169.254/latest/meta-data", "metadata"),
    ("https://169.254.170.2/v2/credentials", "link_local"),
    ("https://[::1]/", "loopback"),
    ("https://[::ffff:127.0.0.1]/", "ipv4_mapped:loopback"),
    ("https://[::ffff:169.254.169.254]/", "ipv4_mapped:metadata"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://[fe80::1]/", "link_local"),
    ("https://[fc00::1]/", "unique_local"),
    ("https://[64:ff9b::a9fe:a9fe]/", "nat64:metadata"),
    ("https://[2002:c0a8:101::1]/", "6to4:private"),
    ("https://100.64.0.1", "cgnat"),
    ("https://0.0.0.0", "unspecified"),
    ("https://[::]/", "unspecified"),
    ("https://203.0.113.10/", "documentation"),
    ("https://224.0.0.1/", "multicast"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_URLS)
def test_private_ip_literals_are_refused_unresolved_and_unconnected(
    url: str, reason: str, no_connect: list[Any]
) -> None:
    assert check_url(url, allow_private=False) == f"address:{reason}"
    result = post(url, b"{}", {}, allow_private=False, resolve=never_resolve)
    assert (result.status, result.error, result.delivered) == (
        None,
        f"address_refused:{reason}",
        False,
    )
    assert no_connect == []


def test_http_is_refused_outside_local(no_connect: list[Any]) -> None:
    result = post(
        "http://hooks.example.com/", b"{}", {}, allow_private=False, resolve=never_resolve
    )
    assert result.error == "url_refused:scheme"
    assert no_connect == []


def test_localhost_resolves_to_loopback_and_is_refused(no_connect: list[Any]) -> None:
    # The platform's resolver: localhost comes from the hosts file, not the network.
    result = post("https://localhost/", b"{}", {}, allow_private=False)
    assert result.error == "address_refused:loopback"
    assert no_connect == []


def test_dns_rebinding_is_refused_at_connect_time(no_connect: list[Any]) -> None:
    answers = iter([[PUBLIC_V4], ["127.0.0.1"]])
    calls: list[Any] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return next(answers)

    url = "https://hooks.example.com/recount"
    # Saving the URL: it is well formed and its name points somewhere public today.
    assert check_url(url, allow_private=False) is None
    assert [address_refusal(ip) for ip in rebinding("hooks.example.com", 443)] == [None]
    # Calling it later: the name now points home; post judges only its own resolution.
    result = post(url, b"{}", {}, allow_private=False, resolve=rebinding)

    assert (result.status, result.error) == (None, "address_refused:loopback")
    assert calls == [("hooks.example.com", 443)] * 2
    assert no_connect == []


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ([PUBLIC_V4, "10.1.2.3"], "private"),
        (["10.1.2.3", PUBLIC_V4], "private"),
        ([PUBLIC_V6, "::1"], "loopback"),
        ([PUBLIC_V4, "169.254.169.254"], "metadata"),
    ],
)
def test_one_private_answer_refuses_the_whole_name(
    answer: list[str], reason: str, no_connect: list[Any]
) -> None:
    resolve, _ = resolver({"hooks.example.com": answer})
    result = post("https://hooks.example.com/", b"{}", {}, allow_private=False, resolve=resolve)
    assert result.error == f"address_refused:{reason}"
    assert no_connect == []


def failing(error: BaseException) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        raise error

    return resolve


@pytest.mark.parametrize(
    "resolve",
    [
        failing(socket.gaierror(socket.EAI_NONAME, "Name or service not known")),
        failing(UnicodeError("label too long")),
        lambda host, port: [],
        lambda host, port: ["not-an-address"],
    ],
)
def test_resolution_failures_are_dns_failed(
    resolve: Callable[[str, int], list[str]], no_connect: list[Any]
) -> None:
    result = post("https://hooks.example.com/", b"{}", {}, allow_private=False, resolve=resolve)
    assert (result.status, result.error) == (None, "dns_failed")
    assert no_connect == []


def test_local_still_refuses_cloud_metadata(no_connect: list[Any]) -> None:
    assert check_url("http://169.254.169.254/", allow_private=True) == "address:metadata"
    resolve, _ = resolver({"metadata.test": ["::ffff:169.254.169.254"]})
    result = post("http://metadata.test/", b"{}", {}, allow_private=True, resolve=resolve)
    assert result.error == "address_refused:ipv4_mapped:metadata"
    assert no_connect == []


# --- the rules as tables --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        (PUBLIC_V4, None),
        ("8.8.8.8", None),
        (PUBLIC_V6, None),
        ("::ffff:8.8.8.8", None),  # judged by the IPv4 address it carries
        ("64:ff9b::808:808", None),
        ("2002:808:808::1", None),
        ("127.0.0.1", "loopback"),
        ("127.255.0.1", "loopback"),
        ("10.255.255.255", "private"),
        ("172.31.0.1", "private"),
        ("172.32.0.1", None),
        ("100.127.255.255", "cgnat"),
        ("169.254.169.254", "metadata"),
        ("169.254.1.1", "link_local"),
        ("0.1.2.3", "unspecified"),
        ("192.0.0.8", "reserved"),  # "global" to Python 3.11.7's ipaddress
        ("192.0.2.1", "documentation"),
        ("198.51.100.1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("192.88.99.1", "reserved"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("::7f00:1", "ipv4_compatible"),
        ("::ffff:10.0.0.1", "ipv4_mapped:private"),
        ("::ffff:0.0.0.0", "ipv4_mapped:unspecified"),
        ("64:ff9b::7f00:1", "nat64:loopback"),
        ("64:ff9b:1::1", "nat64_local"),
        ("2002:7f00:1::", "6to4:loopback"),
        ("2001::1", "teredo"),
        ("2001:db8::1", "documentation"),
        ("2001:2::1", "reserved"),
        ("3fff::1", "documentation"),
        ("fd00:ec2::254", "metadata"),
        ("fd12:3456::1", "unique_local"),
        ("fe80::1", "link_local"),
        ("fe80::1%eth0", "link_local"),
        ("fec0::1", "site_local"),
        ("ff02::1", "multicast"),
        ("100::1", "reserved"),
        ("4000::1", "reserved"),
        ("localhost", "invalid"),
        ("", "invalid"),
    ],
)
def test_address_refusal(ip: str, reason: str | None) -> None:
    assert address_refusal(ip) == reason


@pytest.mark.parametrize(
    ("url", "allow_private", "reason"),
    [
        ("https://hooks.example.com/recount", False, None),
        ("HTTPS://Hooks.Example.COM:8443/x?y=1&z=%20", False, None),
        (f"https://[{PUBLIC_V6}]/", False, None),
        (f"https://{PUBLIC_V4}/", False, None),
        ("http://localhost:8000/hook", True, None),
        ("http://127.0.0.1:8000/hook", True, None),
        ("http://hooks.example.com/", False, "scheme"),
        ("ftp://hooks.example.com/", False, "scheme"),
        ("ftp://hooks.example.com/", True, "scheme"),
        ("hooks.example.com/recount", False, "scheme"),
        ("https://user:pw@hooks.example.com/", False, "userinfo"),
        ("https://user@hooks.example.com/", False, "userinfo"),
        ("https://hooks.example.com/#top", False, "fragment"),
        ("https://hooks.example.com/#", False, "fragment"),
        ("https://hooks.example.com:0/", False, "bad_port"),
        ("https://hooks.example.com:65536/", False, "bad_port"),
        ("https://hooks.example.com:https/", False, "bad_port"),
        ("https://hooks.example.com/" + "a" * 2048, False, "too_long"),
        ("https:///recount", False, "no_host"),
        ("https://", False, "no_host"),
        ("https://:443/", False, "no_host"),
        ("https://hooks.example.com/a b", False, "bad_characters"),
        ("https://hooks.example.com/\r\nX-Injected: 1", False, "bad_characters"),
        ("https://例子.测试/", False, "bad_characters"),
        ("https://127.1/", False, "host_not_canonical"),
        ("https://2130706433/", False, "host_not_canonical"),
        ("https://0x7f.0.0.1/", False, "host_not_canonical"),
        ("https://[::1/", False, "malformed"),
        ("https://10.0.0.1/", False, "address:private"),
        ("https://10.0.0.1/", True, None),
    ],
)
def test_check_url(url: str, allow_private: bool, reason: str | None) -> None:
    assert check_url(url, allow_private=allow_private) == reason


def test_post_refuses_what_check_url_refuses(no_connect: list[Any]) -> None:
    for url in ("https://user@hooks.example.com/", "ftp://x/", "https://x/#f", "https://x:0/"):
        reason = check_url(url, allow_private=False)
        result = post(url, b"{}", {}, allow_private=False, resolve=never_resolve)
        assert result == webhook_http.PostResult(
            None, result.latency_ms, f"url_refused:{reason}", ""
        )
    assert no_connect == []

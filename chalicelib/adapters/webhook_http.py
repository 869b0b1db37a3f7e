"""One outbound webhook POST (Standard Webhooks) that cannot be turned against our own network.

A company liaison registers the URL, so it is attacker-controlled: aimed at the cloud metadata
service, at something in the VPC, or at a name that resolves to a public address when it is
saved and to 127.0.0.1 when we call it (DNS rebinding). Outside stage `local` therefore:

- `check_url` accepts only an absolute https URL: no userinfo, no fragment, a host, a port in
  1-65535, ASCII without spaces or control characters (IDN hosts in punycode), at most 2048
  characters, and no numeric host that is not a canonical IP (`127.1`, `2130706433`, `0x7f.1`);
- `post` resolves the host ONCE, vets EVERY address it got (`address_refusal`) and connects to
  a vetted address itself: nothing resolves the name again, while the Host header, SNI and the
  certificate check still use the name. If any address is refused the whole call is: a name
  answering with public and private addresses at once is an attack, not a misconfiguration;
- no redirect is followed (a 3xx is a non-2xx result like any other), at most 4 KiB of the
  answer is read (1024 characters kept), and the whole call (connect, TLS, request, answer)
  has one deadline of `timeout` seconds, not a timeout per read that a server could dribble
  past.

`address_refusal` uses its own tables (the IANA special-purpose registries) rather than
`ipaddress.is_global`, whose answer changes between Python patch releases: in 3.11.7
192.0.0.8, fec0::1 and ::127.0.0.1 are "global". Documentation ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20) are refused too: no real webhook
lives there. IPv6 must be global unicast (2000::/3), except IPv4-mapped (::ffff:a.b.c.d) and
NAT64 (64:ff9b::a.b.c.d) addresses, which are judged by the IPv4 address they carry, like
6to4 (2002::/16).

`allow_private=True` is for stage `local` only (a receiver on the developer's machine): http,
loopback and private addresses are allowed; cloud metadata addresses never are.

Standard library only: nothing here may depend on a library that resolves names by itself.
"""

from __future__ import annotations

import codecs
import functools
import http.client
import io
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048
BODY_CHARS_KEPT = 1024
# Enough bytes for 1024 characters of UTF-8 (4 bytes at most each); nothing more is read.
MAX_BODY_READ = 4 * BODY_CHARS_KEPT
USER_AGENT = "recount-webhooks/1"
# Headers http.client writes from the URL and the body: a caller's copy would contradict them.
_OURS = frozenset({"host", "content-length", "transfer-encoding", "connection"})

Resolver = Callable[[str, int], list[str]]
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class PostResult:
    """What one POST came to: an HTTP status (error None), or an error code and no status."""

    status: int | None  # HTTP status, None when no response
    latency_ms: int
    # None on any HTTP response; else "url_refused:<reason>", "dns_failed",
    # "address_refused:<reason>", "timeout", "connection_failed" or "tls_failed".
    error: str | None
    body: str  # at most the first 1024 characters of the response body, decoded leniently

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# --- which addresses we refuse ------------------------------------------------------------

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

_METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)

# First match wins: order matters where ranges nest.
_V4_REFUSED: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified"),  # "this network"; connecting to 0.0.0.0 reaches localhost
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "cgnat"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link_local"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "reserved"),  # IETF protocol assignments
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "reserved"),  # the retired 6to4 relay anycast
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),
)

_V6_MAPPED = _V6("::ffff:0:0/96")
_V6_NAT64 = _V6("64:ff9b::/96")  # the well-known NAT64 prefix: the last 32 bits are IPv4
_V6_GLOBAL_UNICAST = _V6("2000::/3")
# Inside 2000::/3, first match wins.
_V6_REFUSED_GLOBAL: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("2001::/32"), "teredo"),  # carries an obfuscated IPv4 address and a relay
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("2001::/23"), "reserved"),  # IETF protocol assignments (ORCHID, benchmarking, ...)
    (_V6("3fff::/20"), "documentation"),
)
# Outside 2000::/3 everything is refused; these only name the reason.
_V6_REFUSED_OTHER: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("::/96"), "ipv4_compatible"),  # deprecated ::a.b.c.d
    (_V6("64:ff9b:1::/48"), "nat64_local"),
    (_V6("fc00::/7"), "unique_local"),
    (_V6("fe80::/10"), "link_local"),
    (_V6("fec0::/10"), "site_local"),
    (_V6("ff00::/8"), "multicast"),
)


def address_refusal(ip: str) -> str | None:
    """None when `ip` is a public address we may connect to; else why not, a short stable
    text: "loopback", "private", "cgnat", "link_local", "metadata", "unique_local",
    "multicast", "documentation", "reserved", "ipv4_mapped:<reason>", "nat64:<reason>",
    "6to4:<reason>", "invalid", ..."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "invalid"
    return _refusal(address)


def _refusal(address: _Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        # A zone index only means something for link-local addresses; compare without it.
        address = ipaddress.IPv6Address(address.packed)
    if address in _METADATA:
        return "metadata"
    if isinstance(address, ipaddress.IPv4Address):
        for network, reason in _V4_REFUSED:
            if address in network:
                return reason
        return None if address.is_global else "not_global"
    # IPv6 forms that carry an IPv4 address are as safe as that address.
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        kind, v4 = embedded
        inner = _refusal(v4)
        return None if inner is None else f"{kind}:{inner}"
    if address not in _V6_GLOBAL_UNICAST:
        for other, reason in _V6_REFUSED_OTHER:
            if address in other:
                return reason
        return "reserved"
    for special, reason in _V6_REFUSED_GLOBAL:
        if address in special:
            return reason
    return None if address.is_global else "not_global"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if address in _V6_MAPPED:
        return "ipv4_mapped", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _V6_NAT64:
        return "nat64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    return None


def _allowed(address: str, *, allow_private: bool) -> str | None:
    """The refusal that applies: all of them, or only cloud metadata when private is allowed
    (a developer's machine may itself be an EC2 instance)."""
    reason = address_refusal(address)
    if reason is None or not allow_private:
        return reason
    return reason if reason.split(":")[-1] == "metadata" else None


# --- which URLs we accept -----------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    tls: bool
    host: str  # as in the URL, lower case, without brackets
    port: int
    path: str  # path and query: what goes on the request line
    literal: str | None  # the host when it is an IP address, canonical


def _parse(url: str, *, allow_private: bool) -> _Target | str:
    """The target, or why the URL is refused. An IP-literal host is parsed, not vetted."""
    if len(url) > MAX_URL_LENGTH:
        return "too_long"
    # http.client refuses these on the request line (raising); a stored URL should not hold
    # them anyway: non-ASCII hosts go in punycode, paths percent-encoded.
    if not url.isascii() or any(c <= " " or c == "\x7f" for c in url):
        return "bad_characters"
    if "#" in url:
        return "fragment"
    try:
        parts: SplitResult = urlsplit(url)
    except ValueError:  # an unbalanced or invalid [IPv6] host
        return "malformed"
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        return "bad_port"
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_private):
        return "scheme"
    if "@" in parts.netloc:
        return "userinfo"
    host = parts.hostname
    if not host:
        return "no_host"
    if port is not None and not 1 <= port <= 65535:
        return "bad_port"
    literal: str | None = None
    try:
        literal = str(ipaddress.ip_address(host))
    except ValueError:
        if "%" in host or ":" in host:
            return "malformed"
        # getaddrinfo reads "127.1", "2130706433" and "0x7f.1" as IPv4 addresses: a URL that
        # hides one is refused rather than puzzled over.
        if _numeric_ipv4(host):
            return "host_not_canonical"
    tls = scheme == "https"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(tls, host, port or (443 if tls else 80), path, literal)


def _numeric_ipv4(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def check_url(url: str, *, allow_private: bool) -> str | None:
    """None when the URL may be saved; else a reason (stable short text): "too_long",
    "bad_characters", "fragment", "bad_port", "malformed", "scheme" (https only; http only
    when allow_private), "userinfo", "no_host", "host_not_canonical", or "address:<reason>"
    when the host is an IP literal that `address_refusal` refuses.

    Passing this says nothing about where the host's name will point later: `post` vets the
    addresses again when it connects."""
    target = _parse(url, allow_private=allow_private)
    if isinstance(target, str):
        return target
    if target.literal is not None:
        reason = _allowed(target.literal, allow_private=allow_private)
        if reason is not None:
            return f"address:{reason}"
    return None


# --- the POST -----------------------------------------------------------------------------


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow_private: bool,
    timeout: float = 5.0,
    resolve: Resolver | None = None,
) -> PostResult:
    """POST `body` with `headers` (plus Content-Type: application/json and User-Agent:
    recount-webhooks/1 unless given; Host and Content-Length come from the URL and the body).

    Never raises for network or HTTP problems: they become `PostResult.error`. An answer whose
    status line and headers arrived is a response (error None) even if its body then fails.
    `resolve(host, port)` returns IP address strings (default: getaddrinfo, TCP); it is called
    at most once, and not at all for an IP-literal host. allow_private=True (stage `local`
    only) permits http and loopback/private addresses. Header names or values http.client
    refuses (a line break in a value) are the caller's bug: ValueError."""
    started = time.monotonic()
    deadline = started + timeout

    def result(error: str | None, status: int | None = None, text: str = "") -> PostResult:
        latency_ms = int((time.monotonic() - started) * 1000)
        return PostResult(status=status, latency_ms=latency_ms, error=error, body=text)

    target = _parse(url, allow_private=allow_private)
    if isinstance(target, str):
        return result(f"url_refused:{target}")

    if target.literal is not None:
        addresses = [target.literal]
    else:
        try:
            answered = (resolve or _getaddrinfo)(target.host, target.port)
            addresses = list(dict.fromkeys(str(ipaddress.ip_address(a)) for a in answered))
        except (OSError, UnicodeError, ValueError):  # gaierror, an IDNA label, a bad answer
            return result("dns_failed")
        if not addresses:
            return result("dns_failed")
    for address in addresses:
        reason = _allowed(address, allow_private=allow_private)
        if reason is not None:
            return result(f"address_refused:{reason}")

    sent = {k: v for k, v in headers.items() if k.lower() not in _OURS}
    names = {k.lower() for k in sent}
    if "content-type" not in names:
        sent["Content-Type"] = "application/json"
    if "user-agent" not in names:
        sent["User-Agent"] = USER_AGENT

    connection = _PinnedConnection(target, addresses, deadline)
    try:
        connection.request("POST", target.path, body=body, headers=sent)
        response = connection.getresponse()
        try:
            return result(None, response.status, _read_text(response))
        finally:
            response.close()
    except TimeoutError:  # also our deadline, and a TLS handshake that took too long
        return result("timeout")
    except ssl.SSLError:  # a certificate that does not verify, a server that is not TLS
        return result("tls_failed")
    except (OSError, http.client.HTTPException):  # refused, reset, not HTTP
        return result("connection_failed")
    finally:
        connection.close()


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _read_text(response: http.client.HTTPResponse) -> str:
    """The start of the body, decoded leniently; a body that fails midway is kept as read."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size < MAX_BODY_READ:
            chunk = response.read(MAX_BODY_READ - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (OSError, http.client.HTTPException):
        pass  # the status already arrived: that is the answer
    charset = response.headers.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return b"".join(chunks).decode(charset, errors="replace")[:BODY_CHARS_KEPT]


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # The platform's CAs, hostname checking, TLS 1.2 or later; loading the CAs takes a while,
    # so once per Lambda container.
    return ssl.create_default_context()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("webhook deadline passed")
    return left


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP or HTTPS to `target.host` (Host header, SNI, certificate name) over a socket to
    one of `addresses`, which were vetted already: connect() never resolves a name.

    One class for both schemes: HTTPSConnection.connect would resolve and connect on its own.
    """

    def __init__(self, target: _Target, addresses: list[str], deadline: float) -> None:
        super().__init__(target.host, target.port, timeout=max(deadline - time.monotonic(), 0))
        # The Host header leaves the port out when it is the scheme's default.
        self.default_port = 443 if target.tls else 80
        self._tls = target.tls
        self._addresses = addresses
        self._deadline = deadline

    def connect(self) -> None:
        sock: socket.socket | None = None
        failure: OSError = ConnectionError("no address")
        for address in self._addresses:  # the first that accepts the connection
            try:
                # Numeric: create_connection's getaddrinfo does no DNS lookup for it.
                sock = socket.create_connection(
                    (address, self.port), timeout=_remaining(self._deadline)
                )
                break
            except OSError as error:
                failure = error
        if sock is None:
            raise failure
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls:
                sock.settimeout(_remaining(self._deadline))
                sock = _tls_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = _DeadlineSocket(sock, self._deadline)


class _DeadlineSocket:
    """The socket as http.client uses it (sendall, makefile, close), each read and write given
    only the time left: a server sending a byte a second cannot keep us past the deadline.

    Like socket.makefile, close() waits for the reader: http.client closes the connection as
    soon as a `Connection: close` answer's headers are in, before its body is read."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._readers = 0
        self._closed = False

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(_remaining(self._deadline))
        self._sock.sendall(data)

    def makefile(self, mode: str) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"unsupported mode {mode!r}")
        self._readers += 1
        return io.BufferedReader(_DeadlineReader(self))

    def recv_into(self, buffer: memoryview) -> int:
        self._sock.settimeout(_remaining(self._deadline))
        return self._sock.recv_into(buffer)

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closed and self._readers <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._readers <= 0:
            self._sock.close()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, owner: _DeadlineSocket) -> None:
        self._owner: _DeadlineSocket | None = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._owner is None:
            raise ValueError("read from a closed response")
        return self._owner.recv_into(buffer)

    def close(self) -> None:
        if self._owner is not None:
            self._owner.reader_closed()
            self._owner = None
        super().close()

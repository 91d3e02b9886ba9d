"""Connections pinned to checked addresses, with one deadline for the whole fetch.

The host is resolved once, every resolved address is checked, and the
connection goes to one of exactly those addresses, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot reach an
internal service.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from typing import Any, Self

from ..i18n import _
from .addresses import AddressPolicy, _is_ip_literal, _Target
from .errors import FetchFailed, UrlRefused
from .limits import Limits


class _Deadline:
    """The overall time budget of one fetch, enforced even while http.client is blocked.

    Per-operation socket timeouts cannot stop a server that sends one byte just before
    each timeout; a timer that shuts the socket down at the deadline can.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.fired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Self:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        return self.expires - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.fired or self.remaining() <= 0

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            fired = self.fired
        if fired and sock is not None:
            _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sock = self._sock
        if sock is not None:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    # Already closed is fine: the point is only that nothing reads from it any more.
    with contextlib.suppress(OSError):
        # The plain socket method on purpose: SSLSocket.shutdown would tear down the TLS
        # object under the feet of the thread that is reading from it.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _PinnedConnectionMixin:
    """Connects to pre-checked IP addresses while ``host`` stays the name for Host/SNI."""

    _addresses: tuple[str, ...]
    _limits: Limits
    _deadline: _Deadline
    port: int

    def _open_pinned_socket(self) -> socket.socket:
        last_error: OSError | None = None
        for address in self._addresses:
            remaining = self._deadline.remaining()
            if remaining <= 0:
                raise TimeoutError("deadline passed before connecting")
            try:
                sock = socket.create_connection(
                    (address, self.port), timeout=min(self._limits.connect_timeout, remaining)
                )
            except OSError as exc:
                last_error = exc
                continue
            with contextlib.suppress(OSError):  # an optimisation only; not every socket supports it
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._deadline.watch(sock)
            return sock
        raise last_error if last_error is not None else OSError("no address to connect to")


class _PinnedHTTPConnection(_PinnedConnectionMixin, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, addresses: tuple[str, ...], limits: Limits, deadline: _Deadline):
        super().__init__(host, port, timeout=limits.connect_timeout)
        self._addresses = addresses
        self._limits = limits
        self._deadline = deadline

    def connect(self) -> None:
        sock = self._open_pinned_socket()
        sock.settimeout(min(self._limits.read_timeout, max(self._deadline.remaining(), 0.001)))
        self.sock = sock


class _PinnedHTTPSConnection(_PinnedConnectionMixin, http.client.HTTPSConnection):
    def __init__(
        self,
        host: str,
        port: int,
        *,
        addresses: tuple[str, ...],
        limits: Limits,
        deadline: _Deadline,
        context: ssl.SSLContext,
    ):
        super().__init__(host, port, timeout=limits.connect_timeout, context=context)
        self._addresses = addresses
        self._limits = limits
        self._deadline = deadline
        self._tls_context = context

    def connect(self) -> None:
        sock = self._open_pinned_socket()
        try:
            # The handshake runs under the connect timeout; certificates are checked against
            # the host name from the URL, not the IP we connected to.
            tls = self._tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self._deadline.watch(tls)
        tls.settimeout(min(self._limits.read_timeout, max(self._deadline.remaining(), 0.001)))
        self.sock = tls


def _getaddrinfo(host: str, port: int, *, timeout: float) -> list[tuple[Any, ...]]:
    """``socket.getaddrinfo`` with a time limit.

    The resolver has no timeout of its own, so it runs in a daemon thread we can stop waiting
    for; an abandoned lookup finishes (or fails) on its own later without holding anything.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def lookup() -> None:
        try:
            outcome["value"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except BaseException as exc:  # handed over to the waiting thread below
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=lookup, name="intake-dns", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError("name lookup timed out")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _resolve(target: _Target, policy: AddressPolicy, limits: Limits, deadline: _Deadline) -> tuple[str, ...]:
    host = target.host
    if _is_ip_literal(host):
        # Checked before the resolver is even asked, so a literal needs no lookup to be refused.
        reason = policy.refusal(host)
        if reason is not None:
            raise UrlRefused(_("The address {host} is {reason}; only public web addresses can be fetched.").format(
                host=host, reason=_(reason)))
    try:
        infos = _getaddrinfo(host, target.port, timeout=min(limits.connect_timeout, max(deadline.remaining(), 0.0)))
    except TimeoutError:
        raise FetchFailed(_("Looking up the host {host} took too long. Please try again later.").format(
            host=host)) from None
    except socket.gaierror:
        raise FetchFailed(_("The host {host} could not be found. Please check the web address.").format(
            host=host)) from None
    except (UnicodeError, ValueError):
        raise UrlRefused(_("The host name in the web address is not valid.")) from None
    except OSError:
        raise FetchFailed(_("The host {host} could not be looked up right now. Please try again later.").format(
            host=host)) from None
    addresses: list[str] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = str(sockaddr[0])
        reason = policy.refusal(address)
        if reason is not None:
            if _is_ip_literal(host):
                detail = _("The address {host} is {reason}; only public web addresses can be fetched.")
            else:
                detail = _("The host {host} resolves to {address}, which is {reason}; only public web addresses "
                           "can be fetched.")
            raise UrlRefused(detail.format(host=host, address=address, reason=_(reason)))
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchFailed(_("The host {host} has no usable network address.").format(host=host))
    return tuple(addresses)



"""Fetching an image from a web address: http(s) only, checked addresses,
every redirect checked again, timeouts and a byte cap. Proxies from the
environment are never used; URLs with credentials are refused.
"""

from __future__ import annotations

import http
import http.client
import socket
import ssl
from urllib.parse import urljoin

from ..i18n import _
from .addresses import DEFAULT_POLICY, AddressPolicy, _parse_url, _Target
from .connection import _Deadline, _PinnedHTTPConnection, _PinnedHTTPSConnection, _resolve
from .decode import AcceptedImage, accept_bytes
from .errors import FetchFailed, IntakeError, TooLarge, UrlRefused
from .limits import DEFAULT_LIMITS, Limits, human_size, short_number

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_URL_LENGTH = 8192
_READ_CHUNK = 64 * 1024
_USER_AGENT = "CNN-Activation-Analyzer/1.0 (image fetch)"


def _status_text(status: int) -> str:
    try:
        return f"{status} ({http.HTTPStatus(status).phrase})"
    except ValueError:
        return str(status)


def _read_body(
    response: http.client.HTTPResponse, sock: socket.socket, limits: Limits, deadline: _Deadline, host: str
) -> bytes:
    declared = response.length
    if declared is not None and declared > limits.max_bytes:
        raise TooLarge(_("The image at that address is {size}; the limit is {limit}.").format(
            size=human_size(declared), limit=human_size(limits.max_bytes)))
    chunks: list[bytes] = []
    received = 0
    while True:
        remaining = deadline.remaining()
        if remaining <= 0 or deadline.fired:
            raise _too_slow(host, limits)
        # Each read may wait read_timeout, but never past the overall deadline.
        sock.settimeout(min(limits.read_timeout, remaining))
        chunk = response.read1(_READ_CHUNK)
        if not chunk:
            if deadline.passed:
                # The watchdog's shutdown looks like an ordinary end of stream.
                raise _too_slow(host, limits)
            if response.length:
                # http.client's read1 reports a short body as a plain end of stream.
                raise _closed_early(host)
            break
        received += len(chunk)
        if received > limits.max_bytes:
            raise TooLarge(_("The image at that address is larger than the {limit} limit.").format(
                limit=human_size(limits.max_bytes)))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_slow(host: str, limits: Limits) -> FetchFailed:
    return FetchFailed(_("Downloading from {host} took longer than {seconds} seconds and was stopped.").format(
        host=host, seconds=short_number(limits.total_timeout)))


def _closed_early(host: str) -> FetchFailed:
    return FetchFailed(_("The server at {host} closed the connection before the whole image arrived.").format(
        host=host))


def _explain_network_error(exc: BaseException, host: str) -> FetchFailed:
    if isinstance(exc, ssl.SSLCertVerificationError):
        text = _("The secure connection to {host} could not be verified (its certificate is not valid).")
    elif isinstance(exc, ssl.SSLError):
        text = _("A secure connection to {host} could not be established.")
    elif isinstance(exc, TimeoutError):
        text = _("The server at {host} did not answer in time. Please try again later or use another address.")
    elif isinstance(exc, ConnectionRefusedError):
        text = _("The server at {host} refused the connection.")
    elif isinstance(exc, http.client.IncompleteRead):
        return _closed_early(host)
    elif isinstance(exc, http.client.HTTPException):
        text = _("The server at {host} sent a response that is not valid HTTP.")
    else:
        text = _("The connection to {host} failed. Please try again later or use another address.")
    return FetchFailed(text.format(host=host))


def _fetch_once(
    target: _Target, limits: Limits, policy: AddressPolicy, deadline: _Deadline
) -> tuple[int, str | None, bytes]:
    """One request: (status, Location header, body). The body is only read for 2xx answers."""
    addresses = _resolve(target, policy, limits, deadline)
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(
            target.host,
            target.port,
            addresses=addresses,
            limits=limits,
            deadline=deadline,
            context=ssl.create_default_context(),
        )
    else:
        connection = _PinnedHTTPConnection(
            target.host, target.port, addresses=addresses, limits=limits, deadline=deadline
        )
    host = target.host
    response: http.client.HTTPResponse | None = None
    try:
        try:
            connection.connect()
        except OSError as exc:
            if deadline.passed:
                raise _too_slow(host, limits) from None
            if isinstance(exc, TimeoutError) and not isinstance(exc, ssl.SSLError):
                raise FetchFailed(_("Could not connect to {host} within {seconds} seconds.").format(
                    host=host, seconds=short_number(limits.connect_timeout))) from None
            raise _explain_network_error(exc, host) from None
        # http.client drops its reference once the response owns the stream; keep ours for timeouts.
        sock = connection.sock
        assert sock is not None
        try:
            connection.request(
                "GET",
                target.request_target,
                headers={"User-Agent": _USER_AGENT, "Accept": "image/*", "Connection": "close"},
            )
            response = connection.getresponse()
            status = response.status
            if status in _REDIRECT_STATUSES:
                return status, response.getheader("Location"), b""
            if not 200 <= status < 300:
                return status, None, b""
            return status, None, _read_body(response, sock, limits, deadline, host)
        except IntakeError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if deadline.passed:
                raise _too_slow(host, limits) from None
            raise _explain_network_error(exc, host) from None
    finally:
        deadline.watch(None)
        if response is not None:
            response.close()
        connection.close()


def fetch_url(url: str, limits: Limits = DEFAULT_LIMITS, policy: AddressPolicy = DEFAULT_POLICY) -> bytes:
    """Download ``url`` under every limit and address check; return the raw body bytes."""
    target = _parse_url(url)
    with _Deadline(limits.total_timeout) as deadline:
        redirects = 0
        while True:
            if deadline.passed:
                raise _too_slow(target.host, limits)
            status, location, body = _fetch_once(target, limits, policy, deadline)
            if status not in _REDIRECT_STATUSES:
                if not 200 <= status < 300:
                    raise FetchFailed(_("The server at {host} answered with HTTP status {status} instead of an "
                                        "image.").format(host=target.host, status=_status_text(status)))
                return body
            if not location:
                raise FetchFailed(_("The server at {host} sent a redirect without saying where to.").format(
                    host=target.host))
            redirects += 1
            if redirects > limits.max_redirects:
                raise UrlRefused(_("The web address redirected more than {n} times (possibly in a loop), so it was "
                                   "not followed.").format(n=limits.max_redirects))
            try:
                next_url = urljoin(target.url, location.strip())
            except ValueError:
                raise UrlRefused(_("The web address redirected to a malformed address.")) from None
            try:
                target = _parse_url(next_url)
            except UrlRefused as exc:
                raise UrlRefused(_("The web address redirected to another address, which was refused. {reason}").format(
                    reason=exc)) from None


def accept_url(
    url: str,
    limits: Limits = DEFAULT_LIMITS,
    policy: AddressPolicy = DEFAULT_POLICY,
) -> AcceptedImage:
    """Fetch ``url`` (see ``fetch_url``) and check the bytes like an upload."""
    return accept_bytes(fetch_url(url, limits, policy), limits)

"""Which web addresses the fetcher may reach: parsing and the address policy."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ..i18n import N_, _, integer
from .errors import UrlRefused

_MAX_URL_LENGTH = 8192


# --------------------------------------------------------------------------- address policy

_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
_NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class AddressPolicy:
    """Which resolved IP addresses the fetcher may connect to: public unicast only."""

    allow_loopback: bool = False  # tests only: lets end-to-end tests use 127.0.0.1 servers

    def refusal(self, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        """``None`` when ``address`` may be contacted, else a plain-English reason
        (a catalog entry: ``_(reason)`` words it for the reader)."""
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return N_("not a valid network address")
        return self._refuse_ip(ip)

    def _refuse_ip(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped is not None:
                # The kernel connects ::ffff:a.b.c.d to a.b.c.d itself: judge exactly that.
                return self._refuse_ip(ip.ipv4_mapped)
            # Addresses that carry an IPv4 address inside are judged by that address too,
            # otherwise 2002:7f00:1:: (6to4) or a NAT64 address would tunnel to a forbidden host.
            for embedded in self._embedded_ipv4(ip):
                reason = self._refuse_ip(embedded)
                if reason is not None:
                    return reason
        if ip.is_loopback:
            return None if self.allow_loopback else N_("a loopback address (this machine itself)")
        if ip.is_unspecified:
            return N_("an unspecified address (0.0.0.0 or ::)")
        if ip.is_link_local:
            return N_("a link-local address (such as a cloud metadata service)")
        if ip.is_multicast:
            return N_("a multicast address")
        if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
            return N_("a site-local address")
        if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED_ADDRESS_SPACE:
            return N_("a shared carrier network address")
        if ip.is_reserved:
            return N_("a reserved address")
        if ip.is_private:
            return N_("a private network address")
        if not ip.is_global:
            return N_("a non-public address")
        if isinstance(ip, ipaddress.IPv4Address) and ip == ipaddress.IPv4Address("255.255.255.255"):
            return N_("a broadcast address")
        return None

    @staticmethod
    def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
        found: list[ipaddress.IPv4Address] = []
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
        if ip in _NAT64_PREFIX:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return found


DEFAULT_POLICY = AddressPolicy()


# --------------------------------------------------------------------------- URL fetching


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal without brackets
    port: int
    request_target: str  # path and query, percent-encoded


def _parse_url(url: str) -> _Target:
    if not isinstance(url, str):
        raise UrlRefused(_("The web address must be text."))
    url = url.strip()
    if not url:
        raise UrlRefused(_("No web address was given. Please enter an address starting with https:// or http://."))
    if len(url) > _MAX_URL_LENGTH:
        raise UrlRefused(_("The web address is longer than {limit} characters.").format(limit=integer(_MAX_URL_LENGTH)))
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UrlRefused(_("The web address contains control characters and cannot be used."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused(_("The web address is malformed. Please check it and try again.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        if not scheme:
            raise UrlRefused(_("Only web addresses starting with https:// or http:// can be fetched; this address "
                               "cannot be used."))
        raise UrlRefused(_('Only web addresses starting with https:// or http:// can be fetched; this "{scheme}:" '
                           "address cannot be used.").format(scheme=scheme))
    if parts.username is not None or parts.password is not None:
        raise UrlRefused(_("Web addresses containing a user name or password cannot be fetched."))
    host = parts.hostname
    if not host:
        raise UrlRefused(_("The web address has no host name. Please check it and try again."))
    if "%" in host:
        # Percent signs only appear in IPv6 zone identifiers (link-local) or in tricks.
        raise UrlRefused(_("The host name in the web address is not valid."))
    if port == 0:
        raise UrlRefused(_("The web address uses port 0, which is not valid."))
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UrlRefused(_("The host name in the web address is not valid.")) from None
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    target = path + (f"?{parts.query}" if parts.query else "")
    # Keep what is already percent-encoded; encode spaces and non-ASCII the way browsers do.
    target = quote(target, safe="/?&=%:@!$'()*+,;~-._[]")
    return _Target(
        url=url,
        scheme=scheme,
        host=host,
        port=port if port is not None else (443 if scheme == "https" else 80),
        request_target=target,
    )



def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


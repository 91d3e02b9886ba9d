"""Web addresses: the address policy, URL parsing and fetching, without real traffic."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from dashapp import intake
from dashapp.intake import (
    AddressPolicy,
    FetchFailed,
    IntakeError,
    Limits,
    UrlRefused,
    fetch_url,
)
from tests.unit.intake.refusals import assert_refusal

# --------------------------------------------------------------------------- address policy


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "198.18.0.1",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "fe80::1",
        "fe80::1%1",
        "fec0::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "ff0e::1",
        "2002:7f00:0001::",
        "2002:a00:1::1",
        "64:ff9b::a00:1",
        "2001:db8::1",
        "not-an-address",
    ],
)
def test_policy_refuses_non_public_addresses(address: str) -> None:
    reason = AddressPolicy().refusal(address)
    assert reason is not None and reason.strip()
    assert reason.startswith(("a ", "an ", "not "))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "2a00:1450:4001::1"])
def test_policy_allows_public_addresses(address: str) -> None:
    assert AddressPolicy().refusal(address) is None


def test_policy_reasons_are_specific() -> None:
    policy = AddressPolicy()
    assert "private" in (policy.refusal("10.0.0.5") or "")
    assert "loopback" in (policy.refusal("::1") or "")
    assert "link-local" in (policy.refusal("169.254.169.254") or "")
    assert "loopback" in (policy.refusal("::ffff:127.0.0.1") or "")
    assert "loopback" in (policy.refusal("2002:7f00:1::") or "")
    assert "multicast" in (policy.refusal("224.0.0.1") or "")


def test_loopback_exception_is_only_for_loopback() -> None:
    policy = AddressPolicy(allow_loopback=True)
    assert policy.refusal("127.0.0.1") is None
    assert policy.refusal("::1") is None
    assert policy.refusal("::ffff:127.0.0.1") is None
    for address in ("10.0.0.1", "169.254.169.254", "0.0.0.0", "fe80::1", "::ffff:10.0.0.1"):
        assert policy.refusal(address) is not None


# --------------------------------------------------------------------------- URLs (no traffic)


class NetworkTouched(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, object]]]:
    """Fail loudly on any name lookup or connection; record what was attempted."""
    attempts: list[tuple[str, object]] = []

    def forbidden_lookup(host: object, *args: object, **kwargs: object) -> list[object]:
        attempts.append(("getaddrinfo", host))
        raise NetworkTouched(f"name lookup of {host!r}")

    def forbidden_connect(address: object, *args: object, **kwargs: object) -> socket.socket:
        attempts.append(("connect", address))
        raise NetworkTouched(f"connection to {address!r}")

    monkeypatch.setattr(intake.fetch.socket, "getaddrinfo", forbidden_lookup)
    monkeypatch.setattr(intake.fetch.socket, "create_connection", forbidden_connect)
    yield attempts
    assert not any(kind == "connect" for kind, _ in attempts)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/image.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "gopher://example.com/",
        "javascript:alert(1)",
        "",
        "   ",
        "//x",
        "//example.com/cat.png",
        "example.com/cat.png",
        "/etc/passwd",
        "http:///no-host",
        "http://[::1",
        "http://example.com:99999/",
        "http://example.com:0/",
        "http://user:secret@example.com/cat.png",
        "http://example.com@10.0.0.1/",
        "http://exa\x00mple.com/",
        "http://example.com/\r\nX-Injected: 1",
        "https://" + "a" * 9000 + ".com/",
        "http://a..b/",
    ],
)
def test_bad_urls_are_refused_without_network(url: str, no_network: list[tuple[str, object]]) -> None:
    with pytest.raises(IntakeError) as info:
        fetch_url(url)
    assert_refusal(info.value, UrlRefused)
    assert no_network == []


@pytest.mark.parametrize(
    ("resolved", "word"),
    [
        (["10.0.0.5"], "private"),
        (["169.254.169.254"], "link-local"),
        (["::1"], "loopback"),
        (["93.184.216.34", "10.0.0.5"], "private"),
        (["2606:4700::1111", "::ffff:192.168.0.1"], "private"),
    ],
)
def test_host_resolving_to_forbidden_address_is_refused_before_connecting(
    resolved: list[str], word: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []
    connects: list[object] = []

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        lookups.append(host)
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in resolved
        ]

    def fail_connect(address: object, *args: object, **kwargs: object) -> socket.socket:
        connects.append(address)
        raise NetworkTouched(f"connection to {address!r}")

    monkeypatch.setattr(intake.fetch.socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(intake.fetch.socket, "create_connection", fail_connect)
    with pytest.raises(IntakeError) as info:
        fetch_url("https://images.example.com/cat.png")
    assert_refusal(info.value, UrlRefused)
    assert lookups == ["images.example.com"]
    assert connects == []
    assert word in info.value.message
    assert "only public web addresses can be fetched" in info.value.message


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://127.1/",
        "http://0/",
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1%25eth0]/",
        "http://localhost/",
    ],
)
def test_numeric_and_local_hosts_are_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real resolver is used: numeric forms and localhost are resolved locally, without DNS traffic.
    def fail_connect(address: object, *args: object, **kwargs: object) -> socket.socket:
        raise NetworkTouched(f"connection to {address!r}")

    monkeypatch.setattr(intake.fetch.socket, "create_connection", fail_connect)
    with pytest.raises(IntakeError) as info:
        fetch_url(url)
    assert_refusal(info.value, UrlRefused)


def test_unresolvable_host_is_a_fetch_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(intake.fetch.socket, "getaddrinfo", no_such_host)
    with pytest.raises(IntakeError) as info:
        fetch_url("https://no-such-host.example/cat.png")
    assert_refusal(info.value, FetchFailed)
    assert "no-such-host.example" in info.value.message


def test_literal_ip_is_refused_without_even_a_lookup(no_network: list[tuple[str, object]]) -> None:
    with pytest.raises(IntakeError) as info:
        fetch_url("http://10.0.0.1/cat.png")
    assert_refusal(info.value, UrlRefused)
    assert info.value.message == (
        "The address 10.0.0.1 is a private network address; only public web addresses can be fetched."
    )
    assert no_network == []


def test_hanging_name_lookup_is_cut_by_the_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def stuck_lookup(*args: object, **kwargs: object) -> list[object]:
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(intake.fetch.socket, "getaddrinfo", stuck_lookup)
    started = time.monotonic()
    try:
        with pytest.raises(IntakeError) as info:
            fetch_url("https://slow-dns.example/cat.png", Limits(connect_timeout=0.3, total_timeout=5.0))
    finally:
        release.set()
    assert_refusal(info.value, FetchFailed)
    assert time.monotonic() - started < 3.0


def test_international_host_names_are_looked_up_in_ascii(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups: list[str] = []

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.9.9.9", port))]

    monkeypatch.setattr(intake.fetch.socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(UrlRefused):
        fetch_url("https://bücher.example/katze.png")
    assert lookups == ["xn--bcher-kva.example"]


def test_request_target_is_percent_encoded() -> None:
    target = intake.addresses._parse_url("https://example.com/a b/café.png?q=x y#fragment")
    assert target.request_target == "/a%20b/caf%C3%A9.png?q=x%20y"
    assert target.host == "example.com" and target.port == 443
    assert intake.addresses._parse_url("HTTP://Example.COM:8080").request_target == "/"



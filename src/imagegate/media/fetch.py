"""Fetching images from URLs without becoming a proxy into private networks.

Only http(s), checked by `media.urls` (a malformed URL, or a redirect to one, is a 400 naming
the field; it is never resolved or connected to). Every address a name resolves to is checked
*after* DNS resolution by the resolver the connection itself uses, so a name cannot pass the
check and then connect elsewhere; IP literals are checked before connecting. Redirects are
followed here, hop by hop, each checked the same way. Loopback, private, link-local, multicast,
reserved and unspecified addresses (and IPv6 forms embedding them) are refused unless the
operator allows a network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from imagegate.errors import InvalidRequest, PayloadTooLarge
from imagegate.media.urls import check_image_url, image_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}


class BlockedAddress(OSError):
    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to {address}, which is not a public address")
        self.host = host
        self.address = address


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    allow_networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def from_strings(cls, networks: Iterable[str]) -> FetchPolicy:
        return cls(
            tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip())
        )

    def permits(self, address: IPAddress) -> bool:
        if any(address in network for network in self.allow_networks):
            return True
        return all(_is_public(candidate) for candidate in _embedded(address))


def _embedded(address: IPAddress) -> list[IPAddress]:
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour):
            if inner is not None:
                found.append(inner)
        if address.teredo is not None:
            found.extend(address.teredo)
    return found


def _is_public(address: IPAddress) -> bool:
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


class PolicyResolver(AbstractResolver):
    """Resolves a name to the addresses the policy permits, or refuses it (`BlockedAddress`);
    the connector of every outgoing call to a client-given URL uses one (webhooks too)."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._policy.permits(ipaddress.ip_address(r["host"]))]
        if not allowed:
            raise BlockedAddress(host, results[0]["host"] if results else "nothing")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class PolicyClient:
    """An HTTP client, made on first use, that connects only to addresses `policy` permits,
    checked on what each name resolves to when it connects (so a name cannot pass a check and
    then point inwards): what fetching images and delivering webhooks share."""

    def __init__(self, policy: FetchPolicy, timeout_seconds: float, limit: int) -> None:
        self.policy = policy
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=PolicyResolver(self.policy), limit=self._limit
            )
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


T = TypeVar("T")


class SafeFetcher:
    def __init__(self, policy: FetchPolicy, timeout_seconds: float = 20.0) -> None:
        self._client = PolicyClient(policy, timeout_seconds, limit=32)

    async def close(self) -> None:
        await self._client.close()

    async def fetch(self, url: str | URL, *, what: str, max_bytes: int) -> tuple[bytes, str | None]:
        """The body and its declared content type, or a 400/413 that says what went wrong."""

        async def read(response: aiohttp.ClientResponse) -> bytes:
            return await _read_limited(response, what, max_bytes)

        return await self._get(url, what, read)

    async def fetch_to_file(
        self,
        url: str | URL,
        target: Path,
        *,
        what: str,
        max_bytes: int,
        headers: Mapping[str, str] | None = None,
    ) -> str | None:
        """Streams the body into `target` (a video: never held whole in memory); returns its
        declared content type. The same checks and errors as `fetch`; `headers` (a key) go to
        `url`'s host only, never on a redirect. The time limit is on silence (no byte for the
        fetch timeout), not on the whole download, which may be long."""

        async def write(response: aiohttp.ClientResponse) -> None:
            await _write_limited(response, target, what, max_bytes)

        silence = aiohttp.ClientTimeout(total=None, sock_read=self._client.timeout.total)
        _, content_type = await self._get(url, what, write, headers, silence)
        return content_type

    async def _get(
        self,
        url: str | URL,
        what: str,
        read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        headers: Mapping[str, str] | None = None,
        limits: aiohttp.ClientTimeout | None = None,
    ) -> tuple[T, str | None]:
        """`read` of the answer to a GET of `url`, following redirects to permitted
        addresses, and its declared content type."""
        current = url if isinstance(url, URL) else image_url(url, what)
        extra = {"timeout": limits} if limits is not None else {}
        for _ in range(MAX_REDIRECTS + 1):
            self._check_url(current, what)
            try:
                async with self._client.session.get(
                    current, allow_redirects=False, headers=headers, **extra
                ) as response:
                    if response.status in _REDIRECTS and "Location" in response.headers:
                        current = _redirected(current, response.headers["Location"], what)
                        headers = None  # a key is for the host it was meant for
                        continue
                    if response.status != 200:
                        raise InvalidRequest(
                            f"fetching {what} from {current.host} returned HTTP {response.status}",
                            param=what,
                        )
                    return await read(response), response.content_type
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, BlockedAddress):
                    raise _refused(what, exc.os_error.host, exc.os_error.address) from exc
                raise InvalidRequest(
                    f"could not fetch {what} from {current.host}: {exc}", param=what
                ) from exc
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise InvalidRequest(
                    f"could not fetch {what} from {current.host}: {exc!r}", param=what
                ) from exc
        raise InvalidRequest(f"fetching {what}: more than {MAX_REDIRECTS} redirects", param=what)

    def _check_url(self, url: URL, what: str) -> None:
        check_image_url(url, what)
        assert url.host is not None
        try:
            literal = ipaddress.ip_address(url.host)
        except ValueError:
            return  # a name: checked by the resolver after DNS
        if not self._client.policy.permits(literal):
            raise _refused(what, url.host, str(literal))


def _redirected(current: URL, location: str, what: str) -> URL:
    try:
        return current.join(URL(location))
    except ValueError as exc:
        raise InvalidRequest(
            f"fetching {what}: {current.host} redirected to a malformed URL ({exc})", param=what
        ) from exc


def _refused(what: str, host: str, address: str) -> InvalidRequest:
    return InvalidRequest(
        f"refusing to fetch {what} from {host}: it resolves to {address}, which is not a public "
        "address (loopback, private, link-local, multicast and reserved networks are blocked)",
        param=what,
    )


async def _read_limited(response: aiohttp.ClientResponse, what: str, max_bytes: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise PayloadTooLarge(f"{what} is {declared} bytes; the limit is {max_bytes}", param=what)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(256 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"{what} is over the {max_bytes}-byte limit", param=what)
        chunks.append(chunk)
    return b"".join(chunks)


async def _write_limited(
    response: aiohttp.ClientResponse, target: Path, what: str, max_bytes: int
) -> None:
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise PayloadTooLarge(f"{what} is {declared} bytes; the limit is {max_bytes}", param=what)
    size = 0
    file = await asyncio.to_thread(target.open, "wb")
    try:
        async for chunk in response.content.iter_chunked(1024 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"{what} is over the {max_bytes}-byte limit", param=what)
            await asyncio.to_thread(file.write, chunk)
    finally:
        await asyncio.to_thread(file.close)

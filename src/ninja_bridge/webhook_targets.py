"""Which legacy hook targets the proxy may POST to.

The proxy sends requests to URLs a v4 client chose, from inside the operator's network, so a hook
must not become a way to reach the cloud's metadata service or other link-local addresses. Those
are refused always. The operator may narrow targets further to a list of hostnames and networks
(setting `webhook_allowed_targets`). Loopback and private networks are allowed by default: a
sidecar usually delivers to applications on the same host or network.

A target is checked when a hook is subscribed and again before every delivery, on every address
its name resolves to; the delivery's own connections resolve through `GuardedResolver`, so a name
that changes its answer between the check and the connection is still caught.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Link-local covers the AWS/GCP/Azure metadata address 169.254.169.254; fd00:ec2::254 is AWS's IPv6 one.
ALWAYS_REFUSED_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)
ALWAYS_REFUSED_HOSTS = frozenset({"metadata.google.internal", "metadata.goog"})
_HOSTNAME = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


class TargetRefused(OSError):
    """A hook target the proxy will not contact (an OSError so it can leave a resolver)."""


class TargetUnresolved(TargetRefused):
    """A target whose name does not resolve: refused at subscribe time, retried at delivery."""


def parse_allowed(entries: Iterable[str]) -> tuple[tuple[IPNetwork, ...], tuple[str, ...]]:
    """Split `webhook_allowed_targets` into networks and hostnames; a bad entry is a ValueError."""
    networks: list[IPNetwork] = []
    hostnames: list[str] = []
    for entry in entries:
        text = entry.strip().lower()
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
            continue
        except ValueError:
            pass
        if not _HOSTNAME.match(text):
            raise ValueError(f"{entry!r} is neither a hostname (optionally *.domain) nor an IP network")
        hostnames.append(text)
    return tuple(networks), tuple(hostnames)


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    return address


@dataclass(frozen=True)
class TargetPolicy:
    networks: tuple[IPNetwork, ...] = ()
    hostnames: tuple[str, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> "TargetPolicy":
        networks, hostnames = parse_allowed(entries)
        return cls(networks, hostnames)

    def host_of(self, url: str) -> str:
        """The target's host, after the checks that need no DNS (scheme, refused names, literals)."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".").lower()
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise TargetRefused(f"not a valid URL: {exc}") from exc
        if parts.scheme not in ("http", "https") or not host:
            raise TargetRefused("must be an http or https URL with a host")
        if host in ALWAYS_REFUSED_HOSTS:
            raise TargetRefused(f"{host} is a cloud metadata service")
        address = _address(host)
        if address is not None:
            self.check_address(host, str(address))
        elif self.restricted and not self.allows_name(host) and not self.networks:
            raise TargetRefused(f"{host} is not in webhook_allowed_targets")
        return host

    @property
    def restricted(self) -> bool:
        return bool(self.networks or self.hostnames)

    def allows_name(self, host: str) -> bool:
        for allowed in self.hostnames:
            if allowed.startswith("*."):
                if host.endswith(allowed[1:]):
                    return True
            elif host == allowed:
                return True
        return False

    def check_address(self, host: str, text: str) -> None:
        """Raise TargetRefused unless `host` may be reached at address `text`."""
        address = _address(text)
        if address is None:
            raise TargetRefused(f"{host} resolved to {text!r}, which is not an IP address")
        if any(address in network for network in ALWAYS_REFUSED_NETWORKS):
            raise TargetRefused(f"{host} resolves to {address}, a link-local or cloud-metadata address")
        if self.restricted and not self.allows_name(host.rstrip(".").lower()) \
                and not any(address in network for network in self.networks):
            raise TargetRefused(f"{host} ({address}) is not in webhook_allowed_targets")

    async def check(self, url: str) -> None:
        """Every check, resolving the host and checking each address it has."""
        host = self.host_of(url)
        if _address(host) is not None:
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise TargetUnresolved(f"{host} cannot be resolved: {exc.strerror or exc}") from exc
        for info in infos:
            self.check_address(host, str(info[4][0]))


class GuardedResolver(AbstractResolver):
    """A resolver that refuses names resolving to an address the policy refuses."""

    def __init__(self, policy: TargetPolicy) -> None:
        self.policy = policy
        self.inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        for result in results:
            self.policy.check_address(host, result["host"])
        return results

    async def close(self) -> None:
        await self.inner.close()

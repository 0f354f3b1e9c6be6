"""How a push message reaches a push service and nothing else in the server's network.

Invariants:
- A connection is opened only to an allowed push host (models.subscriptions.host_is_allowed), and only when
  every address its name resolves to is public: not private, loopback, link-local, reserved,
  multicast, unspecified or shared (100.64/10), also not inside an IPv6 form of such an IPv4 address
  (::ffff:…, 6to4, Teredo). One bad address refuses the whole name (`AddressRefused`).
- The name is resolved once, in the connection itself, and the socket connects to the very addresses
  that were checked: a DNS answer that changes between check and use (DNS rebinding) cannot reach a
  second lookup, because there is none. TLS still verifies the certificate against the host name.
- No proxy or .netrc from the environment (a proxy would resolve the name itself, unchecked) and no
  redirects: the answer of the checked connection is the end.

What remains: the allow-list trusts the push services' own DNS; an egress firewall is still the place
to close the server's network for everything else. PUSH_ALLOW_PRIVATE_ADDRESSES (tests only: a stub on
loopback) skips the address check but not the single lookup.
"""
import ipaddress
import socket

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import allowed_gai_family, create_connection

from models.subscriptions import host_is_allowed


class AddressRefused(Exception):
    """The push endpoint's host is not allowed, or resolves to an address the server must not reach."""


def _public(ip) -> bool:
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
                                 or ip.is_multicast or ip.is_unspecified)


def is_public(address: str) -> bool:
    """Whether an address (as getaddrinfo gives it) is one the server may connect to for a push."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())] if ip.version == 6 else []
    return all(_public(one) for one in [ip, *embedded] if one is not None)


def checked_addresses(host: str, port: int, allowed_hosts, allow_private: bool) -> list[tuple]:
    """Resolve an allowed host once; its getaddrinfo answers, only when all of them are public."""
    if not host_is_allowed(host, allowed_hosts):
        raise AddressRefused("not an allowed push host")
    found = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    if not found or not (allow_private or all(is_public(sockaddr[0]) for *_, sockaddr in found)):
        raise AddressRefused("resolves to an address that is not public")
    return found


class _CheckedConnection:
    """A urllib3 connection that connects only to checked addresses of its host (mixed in first)."""

    allowed_hosts: tuple = ()
    allow_private = False

    def _new_conn(self):
        # urllib3 would resolve the name again in create_connection; here the socket goes to the
        # addresses just checked (a numeric host: getaddrinfo does no DNS for it)
        found = checked_addresses(self.host, self.port, self.allowed_hosts, self.allow_private)
        error = None
        for *_, sockaddr in found:
            try:
                return create_connection(sockaddr[:2], self.timeout, source_address=self.source_address,
                                         socket_options=self.socket_options)
            except TimeoutError as timeout:
                error = ConnectTimeoutError(self, f"Connection to the push service timed out ({timeout})")
            except OSError as refused:
                error = NewConnectionError(self, f"Failed to establish a new connection: {refused}")
        raise error


def push_session(allowed_hosts, allow_private: bool = False) -> requests.Session:
    """A requests session for pywebpush whose connections are `_CheckedConnection`s (one per batch:
    requests sessions are not meant to be shared between threads)."""
    policy = {"allowed_hosts": tuple(allowed_hosts), "allow_private": allow_private}
    pools = {}
    for scheme, pool, connection in (("http", HTTPConnectionPool, HTTPConnection),
                                     ("https", HTTPSConnectionPool, HTTPSConnection)):
        checked = type(f"Checked{connection.__name__}", (_CheckedConnection, connection), policy)
        pools[scheme] = type(f"Checked{pool.__name__}", (pool,), {"ConnectionCls": checked})
    adapter = HTTPAdapter(max_retries=0)
    adapter.poolmanager.pool_classes_by_scheme = pools
    session = requests.Session()
    session.trust_env = False  # no proxy, no .netrc from the environment
    session.max_redirects = 0  # a redirect raises TooManyRedirects instead of being followed
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session

"""Name resolution as a container sees it: Docker's embedded DNS at 127.0.0.11 in its namespace."""

from __future__ import annotations

import ipaddress

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from ..netns import udp_socket

EMBEDDED_DNS = "127.0.0.11"


def resolve(pid: int, name: str, timeout: float = 2.0) -> tuple[ipaddress.IPv4Address, ...]:
    """The A records Docker's DNS gives ``name`` inside the namespace of ``pid``.

    Raises LookupError with the DNS answer's status when there is no address.
    """
    query = dns.message.make_query(name, dns.rdatatype.A)
    with udp_socket(pid) as sock:
        sock.setblocking(False)  # dnspython's timeout only works on a non-blocking socket
        try:
            answer = dns.query.udp(query, EMBEDDED_DNS, timeout=timeout, sock=sock)
        except dns.exception.Timeout as exc:
            raise LookupError(f"{EMBEDDED_DNS} did not answer within {timeout:g} s") from exc
    found = tuple(
        ipaddress.IPv4Address(item.address)
        for rrset in answer.answer
        if rrset.rdtype == dns.rdatatype.A
        for item in rrset
    )
    if not found:
        raise LookupError(f"{EMBEDDED_DNS} answered {dns.rcode.to_text(answer.rcode())}")
    return found

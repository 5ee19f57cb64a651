"""The host's nat rules as Docker wrote them, read by meaning rather than by string.

Docker asks for NAT on a bridge network with one rule, "masquerade what comes from the subnet and
leaves by any interface but the bridge". How that rule looks depends on the firewall backend, so
this package reads the rules back the way the host's Docker wrote them:

* :mod:`.rules`: :class:`NatRule`, :class:`NatTable` and the questions asked of them by meaning;
* :mod:`.iptables` and :mod:`.nftables`: one parser per backend, both producing ``NatRule``
  values (the condition handling they share is in :mod:`.conditions`);
* :mod:`.reading`: which backend Docker uses, and running the tool that reads it.
"""

from .iptables import parse_iptables_save
from .nftables import parse_nft_json
from .reading import (
    FirewallReadError,
    detect_backend,
    read_nat_table,
    reported_backend,
    reports_native_nftables,
)
from .rules import Backend, NatRule, NatTable, format_rules

__all__ = [
    "Backend",
    "FirewallReadError",
    "NatRule",
    "NatTable",
    "detect_backend",
    "format_rules",
    "parse_iptables_save",
    "parse_nft_json",
    "read_nat_table",
    "reported_backend",
    "reports_native_nftables",
]

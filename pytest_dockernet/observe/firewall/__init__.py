"""The host's firewall as Docker wrote it, read by meaning rather than by string.

Docker asks for NAT on a bridge network with one rule, "masquerade what comes from the subnet and
leaves by any interface but the bridge". How that rule looks depends on the firewall backend, so
this package reads the rules back the way the host's Docker wrote them, for either IP family
(``read_nat_table(info, family=6)``: ``ip6tables-*-save`` or table ``ip6 docker-bridges``, where
Docker writes its NAT66 masquerade and its IPv6 published ports' DNAT):

* :mod:`.rules`: :class:`NatRule`, :class:`NatTable` and the questions asked of them by meaning;
* :mod:`.iptables` and :mod:`.nftables`: one parser per backend, both producing ``NatRule``
  values (the condition handling they share is in :mod:`.conditions`);
* :mod:`.counters`: every rule's packet counter (all tables, read-only), which dropping rule
  a lost probe grew, and what that Docker rule is;
* :mod:`.bridged`: whether bridged frames pass the firewall (``bridge-nf-call-iptables``);
* :mod:`.churn`: which rules were rewritten while a probe ran;
* :mod:`.reading`: which backend Docker uses, where its rules really are, and running the
  tool that reads them.
"""

from .bridged import BRIDGE_NF, bridge_nf, bridged_frames_filtered
from .counters import (
    Attribution,
    Counted,
    Drop,
    attribute,
    meaning,
    parse_iptables_counters,
    parse_nft_counters,
)
from .iptables import parse_iptables_save
from .nftables import parse_nft_json
from .reading import (
    FirewallReadError,
    counters_command,
    detect_backend,
    ip6tables_rules,
    read_counters,
    read_nat_table,
    reported_backend,
    reports_native_nftables,
    rules_location,
)
from .rules import Backend, NatRule, NatTable, format_rules

__all__ = [
    "BRIDGE_NF",
    "Attribution",
    "Backend",
    "Counted",
    "Drop",
    "FirewallReadError",
    "NatRule",
    "NatTable",
    "attribute",
    "bridge_nf",
    "bridged_frames_filtered",
    "counters_command",
    "detect_backend",
    "format_rules",
    "ip6tables_rules",
    "meaning",
    "parse_iptables_counters",
    "parse_iptables_save",
    "parse_nft_counters",
    "parse_nft_json",
    "read_counters",
    "read_nat_table",
    "reported_backend",
    "reports_native_nftables",
    "rules_location",
]

"""Probing: where a probe goes (destinations and the outside-traffic guard), pings and ports
from a container's namespace, the churn re-probe, the hop-by-hop trace, the diagnosis of a
dropped packet, and the all-pairs matrix."""

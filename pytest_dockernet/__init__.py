"""pytest-dockernet: throwaway Docker bridge topologies and assertions on what the kernel did."""

from __future__ import annotations

__version__ = "0.1.0"

"""The factory side: a DockerNet facade over one module per kind of resource."""

from .compose import ComposeProject
from .containers import warm_pool
from .dockernet import DockerNet
from .warm import WarmPool

__all__ = ["ComposeProject", "DockerNet", "WarmPool", "warm_pool"]

"""The factory side: a DockerNet facade over one module per kind of resource."""

from .compose import ComposeProject
from .dockernet import DockerNet

__all__ = ["ComposeProject", "DockerNet"]

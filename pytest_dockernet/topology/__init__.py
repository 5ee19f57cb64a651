"""The factory side: a DockerNet facade over one module per kind of resource."""

from .dockernet import DockerNet

__all__ = ["DockerNet"]

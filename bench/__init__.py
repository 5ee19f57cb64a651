"""A benchmark of pytest-dockernet against the docker CLI and plain docker-py, on one machine.

Run it from the repository root: ``python -m bench`` (``--help`` lists the options).
Every container and network it creates is labelled ``pytest-dockernet.session=bench-<random>``
and removed at the end, also on an error or Ctrl-C. Packets go only to containers it created.
"""

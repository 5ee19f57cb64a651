"""The pure parts of the Compose support: the override that labels a project, the images a
project would have to pull, the names services= and profiles= may use, the message of a failed
command, and project names."""

from __future__ import annotations

from pytest_dockernet.topology.compose_cli import (
    failure_message,
    missing_images,
    override,
    project_name,
    unknown_names,
)

CONFIG = {
    "name": "shop",
    "services": {
        "web": {"image": "web:1", "networks": {"front": None}},
        "dns": {"image": "resolver", "dns": ["10.0.0.53"]},
        "sidecar": {"image": "web:1", "network_mode": "service:web"},
        "built": {"build": {"context": "."}, "image": "shop-built"},
    },
    "networks": {"front": {"name": "shop_front"}, "corp": {"name": "corp", "external": True}},
    "volumes": {"data": {"name": "shop_data"}},
}
OURS = {"pytest-dockernet.session": "abc"}


def test_override_labels_what_the_project_creates_and_nothing_external():
    extra = override(CONFIG, dict.fromkeys(("service", "networks", "volumes"), OURS), "127.0.0.1")
    assert {s: v["labels"] for s, v in extra["services"].items()} == dict.fromkeys(
        ("web", "dns", "sidecar", "built"), OURS
    )
    assert extra["networks"] == {"front": {"labels": OURS}}  # corp is the user's
    assert extra["volumes"] == {"data": {"labels": OURS}}


def test_override_sinks_dns_only_where_the_service_has_its_own_namespace_and_no_resolver():
    extra = override(CONFIG, dict.fromkeys(("service", "networks", "volumes"), OURS), "127.0.0.1")
    assert {s for s, v in extra["services"].items() if "dns" in v} == {"web", "built"}
    assert extra["services"]["web"]["dns"] == ["127.0.0.1"]
    kept = override(CONFIG, dict.fromkeys(("service", "networks", "volumes"), OURS), None)
    assert all("dns" not in v for v in kept["services"].values())


def test_missing_images_are_those_without_build_and_not_present():
    assert missing_images(CONFIG, ["web:1"]) == {"dns": "resolver"}
    assert missing_images(CONFIG, ["web:1", "resolver:latest"]) == {}
    assert missing_images(CONFIG, []) == {"web": "web:1", "sidecar": "web:1", "dns": "resolver"}


# `config --format json --profile '*'` of tests/data/compose/profiles.yaml (Compose 2.26),
# trimmed to the keys read.
EVERY_SERVICE = {
    "services": {
        "debug": {"profiles": ["debug"], "image": "busybox"},
        "seed": {"profiles": ["tools"], "depends_on": {"web": {}}, "image": "busybox"},
        "web": {"image": "busybox"},
    }
}


def test_names_of_services_and_profiles_are_checked_against_the_whole_file():
    assert unknown_names(EVERY_SERVICE, ["seed", "debug"], ["tools", "*"], "c.yaml") is None
    assert unknown_names(EVERY_SERVICE, ["sed"], [], "c.yaml") == (
        "services=['sed'] are not in c.yaml "
        "(it has: debug (profile debug), seed (profile tools), web)"
    )
    assert unknown_names(EVERY_SERVICE, ["web"], ["tols", "debug"], "c.yaml") == (
        "profiles=['tols'] are declared by no service of c.yaml (its profiles: debug, tools)"
    )
    assert unknown_names({"services": {"web": {}}}, ["x"], ["y"], "c.yaml") == (
        "services=['x'] are not in c.yaml (it has: web); "
        "profiles=['y'] are declared by no service of c.yaml (its profiles: none)"
    )


# stderr of `docker compose up --detach` on Docker 20.10 with Compose 2.26: three unset
# variables, then the progress, then what failed.
FAILED_UP = """\
time="2026-12-05T15:07:38Z" level=warning msg="The \\"UNSET_A\\" variable is not set. Defaulting to a blank string."
time="2026-12-05T15:07:38Z" level=warning msg="The \\"UNSET_B\\" variable is not set. Defaulting to a blank string."
time="2026-12-05T15:07:38Z" level=warning msg="The \\"UNSET_C\\" variable is not set. Defaulting to a blank string."
 Network i20fail-3025_default  Creating
 Network i20fail-3025_default  Created
 Container i20fail-3025-ok-1  Creating
 Container i20fail-3025-broken-1  Creating
 Container i20fail-3025-broken-1  Created
 Container i20fail-3025-ok-1  Created
 Container i20fail-3025-broken-1  Starting
 Container i20fail-3025-ok-1  Starting
 Container i20fail-3025-ok-1  Started
Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/no/such/program": stat /no/such/program: no such file or directory: unknown
"""
UP = ["docker", "compose", "-p", "i20fail-3025", "up", "--detach"]


def test_a_failed_command_leads_with_composes_error_and_keeps_the_rest_in_order():
    lines = failure_message(UP, 1, FAILED_UP).splitlines()
    assert lines[0].startswith("Error response from daemon: failed to create shim task")
    assert lines[1] == (
        "(`docker compose -p i20fail-3025 up --detach` exited with 1; "
        "Compose's other output, in order:)"
    )
    assert lines[2:] == FAILED_UP.splitlines()[:-1]


def test_a_failure_without_notes_or_without_an_error_line_keeps_every_line():
    assert failure_message(UP, 1, "no such service: helper\n") == (
        "no such service: helper\n(`docker compose -p i20fail-3025 up --detach` exited with 1)"
    )
    only_notes = FAILED_UP.splitlines()[:4]
    assert failure_message(UP, 15, "\n".join(only_notes)).splitlines() == [
        "`docker compose -p i20fail-3025 up --detach` exited with 15:",
        *only_notes,
    ]


def test_project_names_are_what_compose_accepts():
    assert project_name("dn-1a2b-t1-Shop.Front") == "dn-1a2b-t1-shop-front"
    assert project_name("...") == "compose"

"""The pure parts of the Compose support: the override that labels a project, the images a
project would have to pull, and project names."""

from __future__ import annotations

from pytest_dockernet.topology.compose_cli import missing_images, override, project_name

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
    assert missing_images(CONFIG, ["web:1"], None) == {"dns": "resolver"}
    assert missing_images(CONFIG, ["web:1", "resolver:latest"], None) == {}
    assert missing_images(CONFIG, [], ["web"]) == {"web": "web:1"}
    assert missing_images(CONFIG, [], ["built"]) == {}  # it is built, not pulled


def test_project_names_are_what_compose_accepts():
    assert project_name("dn-1a2b-t1-Shop.Front") == "dn-1a2b-t1-shop-front"
    assert project_name("...") == "compose"

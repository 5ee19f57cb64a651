"""Three tiers, asserted the way a CI gate would: a frontend published on the host, an API
between the front and an internal back network, and a database on the back network only.

Nothing runs in the images: each tier's service is a listener the plugin opens in the
container's namespace from the host (`dockernet.listen`), which records who connected.
"""

from pytest_dockernet import (
    assert_not_resolvable,
    assert_port_closed,
    assert_port_open,
    assert_published,
    assert_resolves,
    assert_unreachable,
)


def test_three_tier(dockernet, image):
    front = dockernet.network("front")
    back = dockernet.network("back", internal=True)  # no way out, no MASQUERADE
    web = dockernet.container("web", networks=[front], ports={8080: None}, image=image)
    api = dockernet.container("api", networks=[front, back], image=image)
    db = dockernet.container("db", networks=[back], image=image)
    upstream = dockernet.upstream()  # a client outside every Docker network

    dockernet.listen(web, 8080)
    dockernet.listen(api, 9000)
    database = dockernet.listen(db, 5432)

    # DNS: each tier resolves the tiers it shares a network with, and nothing else.
    assert_resolves(web, "api", to=api)
    assert_resolves(api, "db", to=db)
    assert_not_resolvable(web, "db")

    # Ports: each tier reaches the next one's service, and no further.
    assert_port_open(web, api, 9000, within=5)
    assert_port_open(api, db, 5432, within=5)
    assert database.peers == (api.ip(back),)  # no NAT inside a bridge
    assert_port_closed(web, db.ip(back), 5432)  # the database is on the internal network only
    assert_unreachable(db, upstream)  # and it cannot leave

    # Published: only the frontend, from loopback and from the upstream.
    seen = assert_published(web, 8080)
    assert [a.via for a in seen.attempts] == ["loopback", "upstream 'internet'"]
    assert_port_closed(upstream, upstream.host_address, 9000)  # the API is not published

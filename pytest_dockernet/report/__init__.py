"""``--dockernet-report DIR``: each test's topology and probes drawn by Graphviz, in one HTML
page for the run (:mod:`.writer`), from a plain snapshot of what the test held
(:mod:`.snapshot`), laid out by ``dot`` (:mod:`.picture`) and assembled by :mod:`.page`."""

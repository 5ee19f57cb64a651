"""What a person looks at: ``--dockernet-report DIR``, each test's topology and probes drawn
by Graphviz in one HTML page for the run (:mod:`.writer`), laid out by ``dot``
(:mod:`.picture`) and assembled by :mod:`.page`; and ``dockernet-diff`` (:mod:`.diff`), two
records compared in text and, with ``--html``, drawn with what changed marked
(:mod:`.changes`)."""

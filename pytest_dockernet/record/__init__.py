"""Record and compare: what each assertion observed (``observations``), the record file
(``records``), the comparing run's pytest plugin (``compare``) and the ``dockernet-diff``
command (``diff``)."""

"""Record and compare: what each assertion observed (``observations``), the record file
(``records``), what a test held as plain data (``snapshot``) and the comparing run's pytest
plugin (``compare``)."""

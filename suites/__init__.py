"""The packaged conformance suites, importable as ``kora_conformance.suites``.

One subpackage per area of the catalog: ``plugin`` (KC-PL-*), ``identity`` (KC-ID-*),
``daemons`` (KC-DM-*) and ``runtime`` (KC-RT-*). Every public module of an area defines
``suite``, a :class:`kora_conformance.Suite`; its private modules (``_name.py``) hold the helpers
only that area's checks use. The suites are written with the kit's public check API alone, the
same API a third party's suite would use.

In a source checkout this directory is the top-level ``suites/`` folder, reached from the package
through the ``kora_conformance/suites`` link; in a wheel it is packaged at that place.
"""

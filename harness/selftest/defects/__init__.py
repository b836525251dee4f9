"""Defective components of the reference service, each one wrong in one way a real payments API has been.

Every class or function here subclasses or wraps the correct component it replaces and changes only what its
docstring says; `harness.selftest.variants` puts each into `Components` (one swapped part per variant). The
service's own code carries no switch for any of them.
"""

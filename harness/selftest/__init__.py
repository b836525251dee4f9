"""The self-test: defective variants of the reference service, and proof that the suites catch each one.

`selftest_command` (wired as ``payharness gate --self-test``) runs every behaviour suite against the clean
reference and every variant of :mod:`harness.selftest.variants` (each swaps one component through
`create_app(settings, components=...)`), and writes the catch matrix (defect x suite). Besides
`harness.target`, this is the only package that imports `harness.reference`.
"""

from __future__ import annotations

from .command import BEHAVIOUR_SUITES, selftest_command
from .variants import CLEAN, VARIANTS, Variant, variant

__all__ = ["BEHAVIOUR_SUITES", "CLEAN", "VARIANTS", "Variant", "selftest_command", "variant"]

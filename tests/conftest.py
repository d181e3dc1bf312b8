"""Shared pytest configuration.

Hypothesis profiles: "ci" (the default) keeps the suite fast; set
CONVCLI_HYPOTHESIS_PROFILE=thorough for a much longer search.
"""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("CONVCLI_HYPOTHESIS_PROFILE", "ci"))

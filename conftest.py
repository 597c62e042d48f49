"""pytest settings for the whole suite (tests/ and each plugin's tests)."""

import os

try:
    from hypothesis import settings
except ImportError:  # a minimal install runs its tests without hypothesis
    settings = None

if settings is not None:
    # The property tests draw the same examples on every run, so that a new random draw
    # cannot fail CI on an edge case nobody looked for; HYPOTHESIS_PROFILE=explore draws
    # new examples each run (do that when changing code under a property test).
    settings.register_profile("repeatable", derandomize=True)
    settings.register_profile("explore", derandomize=False)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

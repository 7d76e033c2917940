"""Shared test configuration: float64 by default where tests ask for it, hypothesis profiles."""

import os

from hypothesis import HealthCheck, settings

# CI: derandomised (reproducible failures), no per-example deadline (shared 2-core runners).
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

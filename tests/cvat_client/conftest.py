from __future__ import annotations

from annoflow.adapters.cvat_sim.testing import PASSWORD, USER, cvat_schema, cvat_sim, cvat_sim_unchecked  # noqa: F401

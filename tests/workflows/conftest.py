from annoflow.adapters.cvat_sim.testing import PASSWORD, USER, cvat_schema, cvat_sim  # noqa: F401

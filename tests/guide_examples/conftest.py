from annoflow.adapters.cvat_sim.testing import cvat_schema, cvat_sim  # noqa: F401 - the simulator the guide's code talks to

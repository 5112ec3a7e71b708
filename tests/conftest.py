"""Fixtures shared by every test folder."""

# tests.bdd.cvat_steps: the load steps the CVAT features share. A pytest-bdd step is a fixture under a
# generated name, so a step module shares its steps as a plugin (or a conftest), not by importing names;
# a feature module's own step of the same text still wins (the nearer definition).
pytest_plugins = ["tests.postgres_server", "tests.fiftyone_env", "tests.hostile_servers", "tests.bdd.cvat_steps"]

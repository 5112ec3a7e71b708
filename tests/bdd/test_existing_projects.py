"""Step code for features/existing_projects.feature: the seed's "Uploading to existing projects"
example (its load parts: the second run with the project's schema, and a task with no label fields)."""

from __future__ import annotations

from pytest_bdd import parsers, scenario, scenarios, then

from tests.bdd.cvat_steps import annotator, run_of
from tests.bdd.cvat_steps import *  # noqa: F403 - the shared load steps


scenarios("existing_projects.feature")


@then(parsers.parse('the project "{name}" and the task of "{key}" are still in CVAT'))
def project_and_first_task_kept(world, name, key):
    (task,) = run_of(world, key).task_ids
    with annotator(world) as client:
        (project,) = client.client.get("/api/projects", params={"name": name}).json()["results"]
        kept = client.client.get(f"/api/tasks/{task}").json()
    assert kept["project_id"] == project["id"]

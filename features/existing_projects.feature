Feature: Uploading to existing projects
  As a FiftyOne user who keeps one CVAT project per annotation schema
  I want later runs to add their tasks to the project and follow its schema
  So that annotators work in one place, and what they do comes back to the right fields

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: A second run in the project loads its edits and cleans up only its own task
    When I annotate the first sample with key "create_project"
      """
      {"label_field": "ground_truth", "project_name": "fiftyone_project_example"}
      """
    And I annotate the first sample with key "cvat_existing_project"
      """
      {"label_field": "predictions", "project_name": "fiftyone_project_example"}
      """
    And the annotator moves the first "horse" box
    And the annotator deletes the "car" box
    And the annotator draws a "dog" box
    And I load the annotations of "cvat_existing_project" with cleanup
    Then the first "horse" box was moved where the annotator put it
    And the "car" box is gone
    And a new "dog" box is in "predictions" where the annotator drew it
    And the other "predictions" labels are unchanged to the bit
    And the sample's "ground_truth" labels are as they were
    And the run's CVAT task is gone
    And the project "fiftyone_project_example" and the task of "create_project" are still in CVAT
    And the audit trail of "cvat_existing_project" shows a load with "1 added, 1 edited, 1 deleted, 0 rejected"
    And the dataset holds every change the run's events record

  Scenario: The second run follows the project's schema, attributes included
    When I annotate the first sample with key "create_project"
      """
      {"label_field": "ground_truth", "attributes": {"iscrowd": {}, "note": {"type": "text"}},
       "project_name": "fiftyone_project_example"}
      """
    And I annotate the first sample with key "cvat_existing_project"
      """
      {"label_field": "predictions", "project_name": "fiftyone_project_example"}
      """
    And the annotator sets "note" to "half hidden" on the "car" box
    And I load the annotations of "cvat_existing_project"
    Then the "car" box has "note" set to "half hidden"
    And the other "predictions" labels are unchanged to the bit

  Scenario: A task with unspecified label fields asks for the fields at download time
    When I annotate the first sample with key "create_project"
      """
      {"label_field": "ground_truth", "project_name": "fiftyone_project_example"}
      """
    And I annotate the first sample with key "cvat_new_fields"
      """
      {"project_name": "fiftyone_project_example"}
      """
    And the annotator draws a "person" box
    And I load the annotations of "cvat_new_fields" and answer "new_boxes" at the prompt
    Then a new "person" box is in "new_boxes" where the annotator drew it

  Scenario: A project_id that names no project is refused, and the key stays free
    When I try to annotate the first sample with key "cvat_existing_project"
      """
      {"label_field": "predictions", "project_id": 4242}
      """
    Then the request fails with "CVAT has no project 4242 (or this user cannot see it): pass an existing project_id, or project_name to create one"
    And CVAT holds no project and no task
    And the dataset has no annotation runs
    When I annotate the first sample with key "cvat_existing_project"
      """
      {"label_field": "predictions", "project_name": "fiftyone_project_example"}
      """
    Then the run's CVAT task is in the project "fiftyone_project_example"

  Scenario: A project's typed labels serve only the fields that take what they draw
    Given a CVAT project "typed_project" made in CVAT with labels of these types
      """
      {"car": "rectangle", "person": "rectangle", "lane": "polyline", "region": "polygon", "sunny": "tag", "rainy": "tag"}
      """
    When I annotate the first sample with key "cvat_typed_project"
      """
      {"label_schema": {"predictions": {}, "polylines": {}, "weather": {}}, "project_name": "typed_project"}
      """
    Then the run's fields take the classes
      """
      {"predictions": ["car", "person"], "polylines": ["lane", "region"], "weather": ["sunny", "rainy"]}
      """
    When I try to annotate the first sample with key "cvat_points"
      """
      {"label_field": "keypoints", "project_name": "typed_project"}
      """
    Then the request fails with "field 'keypoints' (keypoints): none of the project's labels can be drawn as points (its labels by type: polygon: region; polyline: lane; rectangle: car, person; tag: sunny, rainy)"
    And the dataset's annotation runs are "cvat_typed_project"

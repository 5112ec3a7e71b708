Feature: Requesting annotations in CVAT
  As a FiftyOne user
  I want annotate() to send my samples and their labels to CVAT
  So that annotators can add and fix labels there

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: The basic recipe sends existing detections with their iscrowd attribute
    When I annotate the first sample with key "cvat_basic_recipe"
      """
      {"label_field": "ground_truth", "attributes": ["iscrowd"], "launch_editor": true}
      """
    Then CVAT has 1 task for the run
    And every ground_truth detection of the sample is in CVAT with its label_id
    And the CVAT labels carry the attributes "label_id, iscrowd"
    And the CVAT editor was opened on the run's first job

  Scenario: A new field from label_field, label_type and classes
    When I annotate one sample with key "cvat_new_field"
      """
      {"label_field": "new_classifications", "label_type": "classifications", "classes": ["dog", "cat", "person"]}
      """
    Then the CVAT labels are "dog, cat, person"
    And CVAT holds no annotations for the run

  Scenario: The same new field from a label schema
    When I annotate one sample with key "cvat_new_field"
      """
      {"label_schema": {"new_classifications": {"type": "classifications", "classes": ["dog", "cat", "person"]}}}
      """
    Then the CVAT labels are "dog, cat, person"

  Scenario: New classes and attributes on an existing field
    When I annotate one sample with key "cvat_existing_field"
      """
      {"label_field": "ground_truth", "classes": ["person", "dog", "cat", "helicopter"],
       "attributes": {"iscrowd": {}, "attr2": {"type": "select", "values": ["val1", "val2"]}}}
      """
    Then the CVAT labels are "person, dog, cat, helicopter"
    And the CVAT labels carry the attributes "label_id, iscrowd, attr2"

  Scenario: Multiple fields share one task, classes told apart by field
    When I annotate one sample with key "cvat_multiple_fields"
      """
      {"label_schema": {"ground_truth": {}, "new_keypoints": {"type": "keypoints", "classes": ["person", "cat", "dog", "food"],
                        "attributes": {"is_truncated": {"type": "select", "values": [true, false]}}}}}
      """
    Then CVAT has 1 task for the run
    And the CVAT labels include "food, person_new_keypoints"

  Scenario: Assigning users round robin
    When I annotate all samples with key "cvat_assign_users"
      """
      {"label_field": "ground_truth", "segment_size": 1, "task_assignee": "annotator", "job_assignees": ["user2", "user3"]}
      """
    Then the run's task is assigned to "annotator"
    And the run's jobs are assigned to "user2, user3, user2, user3"

  Scenario: Scalar fields with and without classes
    When I annotate all samples with key "cvat_scalar"
      """
      {"label_schema": {"int_field": {"type": "scalar"}, "str_field": {"type": "scalar", "classes": ["class1", "class2"]}}}
      """
    Then the CVAT labels are "int_field, class1, class2"

  Scenario: Alternate media are uploaded instead of the originals
    Given every sample has blurred copies in the field "alt_filepath"
    When I annotate one sample with key "cvat_alt_media"
      """
      {"label_field": "ground_truth", "media_field": "alt_filepath"}
      """
    Then CVAT shows the blurred image, not the original

  Scenario: The occlusion widget carries an occluded attribute
    Given the ground_truth labels have an "occluded" attribute
    When I annotate one sample with key "cvat_occluded_widget"
      """
      {"label_schema": {"ground_truth": {"attributes": {"occluded": {"type": "occluded"}}}}}
      """
    Then CVAT's occluded flags match the labels' occluded attribute

  Scenario: CVAT groups carry a group_id attribute
    Given the ground_truth labels have a "group_id" attribute
    When I annotate one sample with key "cvat_group_id"
      """
      {"label_schema": {"ground_truth": {"attributes": {"group_id": {"type": "group_id"}}}}}
      """
    Then CVAT's group numbers match the labels' group_id attribute

  Scenario: Restricting edits still uploads the new attributes for people
    When I annotate one sample with key "cvat_edit_restrictions"
      """
      {"label_field": "ground_truth", "classes": ["person"],
       "attributes": {"sex": {"type": "select", "values": ["male", "female"]}, "age": {"type": "text"}},
       "allow_additions": false, "allow_deletions": false, "allow_label_edits": false, "allow_spatial_edits": false}
      """
    Then the CVAT labels are "person"
    And the CVAT labels carry the attributes "label_id, sex, age"
    And the run records the restrictions "allow_additions, allow_deletions, allow_label_edits, allow_spatial_edits"

  Scenario: A new project, then tasks added to it
    When I annotate one sample with key "create_project"
      """
      {"label_field": "ground_truth", "project_name": "fiftyone_project_example"}
      """
    And I annotate all samples with key "cvat_existing_project"
      """
      {"label_field": "predictions", "project_name": "fiftyone_project_example", "task_name": "predictions",
       "issue_tracker": "https://bugs.example.com/42"}
      """
    Then both runs' tasks are in the project "fiftyone_project_example"
    And the run's task is named "predictions" with the issue tracker "https://bugs.example.com/42"

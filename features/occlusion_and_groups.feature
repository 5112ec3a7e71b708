Feature: CVAT's occlusion widget and groups
  As a FiftyOne user
  I want CVAT's occluded toggle and group ids read into label attributes I choose
  So that annotators use CVAT's own widgets and my labels get the values they set

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: A new occluded attribute filled from the occlusion widget
    When I annotate the first sample with key "cvat_occluded_widget"
      """
      {"label_schema": {"ground_truth": {"attributes": {"occluded": {"type": "occluded"}}}}}
      """
    And the annotator marks the first "person" box as occluded
    And I load the annotations of "cvat_occluded_widget" with cleanup
    Then the first "person" box has "occluded" set to true
    And every other "ground_truth" label has "occluded" set to false, and is otherwise unchanged
    And the audit trail of "cvat_occluded_widget" shows a load with "0 added, 8 edited, 0 deleted, 0 rejected"
    And the dataset holds every change the run's events record

  Scenario: occluded_attr links the widget when uploading to an existing project
    When I annotate the first sample with key "new_proj"
      """
      {"label_field": "ground_truth", "project_name": "example_occluded_widget"}
      """
    And I annotate the first sample with key "cvat_occluded_widget_project"
      """
      {"label_field": "ground_truth", "occluded_attr": "is_occluded", "project_name": "example_occluded_widget"}
      """
    And the annotator marks the "car" box as occluded
    And I load the annotations of "cvat_occluded_widget_project" with cleanup
    Then the "car" box has "is_occluded" set to true
    And every other "ground_truth" label has "is_occluded" set to false, and is otherwise unchanged
    And the run's CVAT task is gone
    And the project "example_occluded_widget" is still in CVAT
    And the dataset holds every change the run's events record

  Scenario: A new group_id attribute filled from CVAT groups
    When I annotate the first sample with key "cvat_group_id"
      """
      {"label_schema": {"ground_truth": {"attributes": {"group_id": {"type": "group_id"}}}}}
      """
    And the annotator puts the first "person" box in group 3
    And the annotator puts the "car" box in group 3
    And I load the annotations of "cvat_group_id" with cleanup
    Then the first "person" box has "group_id" set to 3
    And the "car" box has "group_id" set to 3
    And the other "ground_truth" labels are unchanged to the bit
    And the audit trail of "cvat_group_id" shows a load with "0 added, 2 edited, 0 deleted, 0 rejected"
    And the dataset holds every change the run's events record

  Scenario: group_id_attr links CVAT groups when uploading to an existing project
    When I annotate the first sample with key "new_proj"
      """
      {"label_field": "ground_truth", "project_name": "example_group_id"}
      """
    And I annotate the first sample with key "cvat_group_id_project"
      """
      {"label_field": "ground_truth", "group_id_attr": "group_id_value", "project_name": "example_group_id"}
      """
    And the annotator puts the second "person" box in group 5
    And the annotator puts the "bicycle" box in group 5
    And I load the annotations of "cvat_group_id_project" with cleanup
    Then the second "person" box has "group_id_value" set to 5
    And the "bicycle" box has "group_id_value" set to 5
    And the other "ground_truth" labels are unchanged to the bit
    And the run's CVAT task is gone
    And the project "example_group_id" is still in CVAT
    And the dataset holds every change the run's events record

  Scenario: Taking a box out of its group in CVAT clears its group_id
    Given the "person" boxes of ground_truth have a "group_id" attribute 4
    When I annotate the first sample with key "cvat_group_id"
      """
      {"label_schema": {"ground_truth": {"attributes": {"group_id": {"type": "group_id"}}}}}
      """
    And the annotator puts the first "person" box in group 0
    And I load the annotations of "cvat_group_id"
    Then the first "person" box is in no group
    And the second "person" box has "group_id" set to 4
    And the other "ground_truth" labels are unchanged to the bit

Feature: Annotating multiple fields
  As a FiftyOne user
  I want one run to edit an existing field and fill a new one
  So that annotators do both in one CVAT task, and each label comes back to its own field

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: Fixing ground truth boxes and adding new keypoints in one task
    When I annotate the first sample with key "cvat_multiple_fields"
      """
      {"label_schema": {"ground_truth": {},
                        "new_keypoints": {"type": "keypoints", "classes": ["person", "cat", "dog", "food"],
                                          "attributes": {"is_truncated": {"type": "select", "values": [true, false]}}}}}
      """
    And the annotator moves the first "person" box
    And the annotator draws a "dog_ground_truth" box
    And the annotator places "person_new_keypoints" points at [10, 10, 20, 20, 30, 12] with "is_truncated" set to "True"
    And the annotator places a "food" point at [40, 40] with "is_truncated" set to "False"
    And I load the annotations of "cvat_multiple_fields" with cleanup
    Then the first "person" box was moved where the annotator put it
    And a new "dog" box is in "ground_truth" where the annotator drew it
    And the other "ground_truth" labels are unchanged to the bit
    And the sample's "new_keypoints" field holds "person" at [10, 10, 20, 20, 30, 12] with "is_truncated" true
    And the sample's "new_keypoints" field holds "food" at [40, 40] with "is_truncated" false
    And the audit trail of "cvat_multiple_fields" shows a load with "3 added, 1 edited, 0 deleted, 0 rejected"
    And the dataset holds every change the run's events record

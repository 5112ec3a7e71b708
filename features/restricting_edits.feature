Feature: Restricting label edits
  As a FiftyOne user who only wants new attributes filled in
  I want every edit my run does not allow refused when I load, and each refusal recorded
  So that annotators cannot change what I did not ask them to, and I can see what they tried

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: New sex and age attributes for people, every other edit refused
    When I annotate the first sample with key "cvat_edit_restrictions"
      """
      {"label_field": "ground_truth", "classes": ["person"],
       "attributes": {"sex": {"type": "select", "values": ["male", "female"]}, "age": {"type": "text"}},
       "allow_additions": false, "allow_deletions": false, "allow_label_edits": false, "allow_spatial_edits": false}
      """
    And the annotator sets "sex" to "female" on the first "person" box
    And the annotator sets "age" to "34" on the first "person" box
    And the annotator moves the first "person" box
    And the annotator deletes the second "person" box
    And the annotator draws a "person" box
    And I load the annotations of "cvat_edit_restrictions" with cleanup
    Then the first "person" box has "sex" set to "female"
    And the first "person" box has "age" set to "34"
    And the first "person" box has "iscrowd" set to 0
    And the first "person" box was not moved
    And the second "person" box is still there, as it was
    And no new label was added to "ground_truth"
    And the other "ground_truth" labels are unchanged to the bit
    And the run's events record the refusals "allow_additions, allow_deletions, allow_spatial_edits"
    And the audit trail of "cvat_edit_restrictions" shows a load with "0 added, 1 edited, 0 deleted, 3 rejected"
    And the dataset holds every change the run's events record

  Scenario: A class change is refused when label edits are not allowed
    When I annotate the first sample with key "cvat_no_label_edits"
      """
      {"label_field": "ground_truth", "allow_label_edits": false}
      """
    And the annotator relabels the "car" box as "dog"
    And the annotator sets "iscrowd" to "1" on the "car" box
    And I load the annotations of "cvat_no_label_edits"
    Then the "car" box has "iscrowd" set to 1
    And the other "ground_truth" labels are unchanged to the bit
    And the run's events record the refusals "allow_label_edits"
    And the audit trail of "cvat_no_label_edits" shows a load with "0 added, 1 edited, 0 deleted, 1 rejected"

  Scenario: A read-only attribute is shown in CVAT, but its edits are not imported
    Given the "car" boxes of ground_truth have a "type" attribute "sedan"
    When I annotate the first sample with key "cvat_read_only_attrs"
      """
      {"label_field": "ground_truth", "classes": ["car"],
       "attributes": {"type": {"type": "text", "read_only": true}, "make": {"type": "text", "mutable": false}}}
      """
    And the annotator sets "type" to "suv" on the "car" box
    And the annotator sets "make" to "volvo" on the "car" box
    And I load the annotations of "cvat_read_only_attrs" with cleanup
    Then the "car" box has "type" set to "sedan"
    And the "car" box has "make" set to "volvo"
    And the other "ground_truth" labels are unchanged to the bit
    And the run's events record the refusals "read_only"
    And the audit trail of "cvat_read_only_attrs" shows a load with "0 added, 1 edited, 0 deleted, 1 rejected"
    And the dataset holds every change the run's events record

Feature: Editing existing labels in CVAT
  As a FiftyOne user fixing annotation mistakes I found in my dataset
  I want the boxes, classes and attributes annotators fix in CVAT merged into the field I sent
  So that my labels keep their ids and the run's record tells every change it made

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: Modifying, adding and deleting boxes and their attributes
    When I annotate the first sample with key "cvat_existing_field"
      """
      {"label_field": "ground_truth", "launch_editor": true}
      """
    And the annotator moves the first "person" box
    And the annotator sets "iscrowd" to "1" on the second "person" box
    And the annotator relabels the "car" box as "dog"
    And the annotator deletes the "bicycle" box
    And the annotator draws a "horse" box
    And I load the annotations of "cvat_existing_field" with cleanup
    And I delete the annotation run "cvat_existing_field"
    Then the first "person" box was moved where the annotator put it
    And the second "person" box has "iscrowd" set to 1
    And the "car" box is now labelled "dog", with the same id
    And the "bicycle" box is gone
    And a new "horse" box is in "ground_truth" where the annotator drew it
    And the other "ground_truth" labels are unchanged to the bit
    And the run's CVAT task is gone
    And the dataset has no annotation runs
    And the audit trail of "cvat_existing_field" shows a load with "1 added, 3 edited, 1 deleted, 0 rejected"
    And the audit trail of "cvat_existing_field" ends with "run record deleted"
    And the dataset holds every change the run's events record

  Scenario: New classes and a new attribute next to the inferred iscrowd
    When I annotate the first sample with key "cvat_existing_field"
      """
      {"label_field": "ground_truth", "classes": ["person", "dog", "cat", "helicopter"],
       "attributes": {"iscrowd": {}, "attr2": {"type": "select", "values": ["val1", "val2"]}}}
      """
    And the annotator sets "attr2" to "val2" on the first "person" box
    And the annotator relabels the "dog" box as "helicopter"
    And the annotator draws a "helicopter" box with "attr2" set to "val1"
    And I load the annotations of "cvat_existing_field"
    Then the first "person" box has "attr2" set to "val2"
    And the first "person" box has "iscrowd" set to 0
    And the "dog" box is now labelled "helicopter", with the same id
    And the "dog" box has "iscrowd" set to 0
    And a new "helicopter" box is in "ground_truth" where the annotator drew it with "attr2" set to "val1"
    And the "car" box is still there, as it was
    And the other "ground_truth" labels are unchanged to the bit
    And the audit trail of "cvat_existing_field" shows a load with "1 added, 2 edited, 0 deleted, 0 rejected"
    And the dataset holds every change the run's events record
    And loading "cvat_existing_field" again changes nothing

  Scenario: Labels I tagged keep their tags when annotators fix them
    Given the "person" boxes of ground_truth are tagged "needs_review"
    When I annotate the first sample with key "cvat_tagged"
      """
      {"label_field": "ground_truth"}
      """
    And the annotator moves the first "person" box
    And the annotator relabels the second "person" box as "dog"
    And I load the annotations of "cvat_tagged"
    Then CVAT never saw the tag "needs_review"
    And the first "person" box was moved where the annotator put it
    And the first "person" box still has the tag "needs_review"
    And the second "person" box is now labelled "dog", with the same id
    And the second "person" box still has the tag "needs_review"
    And the other "ground_truth" labels are unchanged to the bit
    And the labels tagged "needs_review" are the ones I tagged
    And loading "cvat_tagged" again changes nothing

Feature: Loading annotations
  As a FiftyOne user whose annotators finished in CVAT
  I want to call load_annotations() on the view I sent, or on the dataset, and optionally clean up
  So that the edits are merged and, when I ask, the run's CVAT tasks are deleted afterwards

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: Loading through the view that was annotated leaves CVAT as it is
    When I annotate the first sample with key "cvat_view_load"
      """
      {"label_field": "ground_truth"}
      """
    And the annotator moves the first "person" box
    And the annotator deletes the "car" box
    And I load the annotations of "cvat_view_load" through the annotated view
    Then the first "person" box was moved where the annotator put it
    And the "car" box is gone
    And the other "ground_truth" labels are unchanged to the bit
    And the run's CVAT task is still there
    And the audit trail of "cvat_view_load" shows a load with "0 added, 1 edited, 1 deleted, 0 rejected"
    And the dataset holds every change the run's events record
    And loading "cvat_view_load" again changes nothing

  Scenario: Loading with cleanup deletes the run's tasks, and the run cannot be loaded again
    When I annotate the first sample with key "cvat_cleanup"
      """
      {"label_field": "ground_truth"}
      """
    And the annotator moves the first "person" box
    And I load the annotations of "cvat_cleanup" with cleanup
    Then the first "person" box was moved where the annotator put it
    And the run's CVAT task is gone
    And the audit trail of "cvat_cleanup" ends with a cleanup of the run's tasks
    And loading "cvat_cleanup" again is refused with "was cleaned up: its tasks on the server are gone"

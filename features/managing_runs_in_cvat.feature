Feature: Managing annotation runs against CVAT
  As a FiftyOne user with runs in progress and finished
  I want to list, inspect, rename, load, clean up and delete my runs
  So that CVAT only keeps what I still need and each run's record tells its whole story

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: A run from annotate() to the deletion of its record
    When I annotate the first sample with key "cvat_basic_recipe"
      """
      {"label_field": "ground_truth"}
      """
    Then the dataset's annotation runs are "cvat_basic_recipe"
    And the annotation info of "cvat_basic_recipe" shows 1 sample, the field "ground_truth" and the run's task
    When I rename the annotation run "cvat_basic_recipe" to "cvat_renamed"
    And the annotator deletes the "car" box
    And I load the annotations of "cvat_renamed"
    Then the dataset's annotation runs are "cvat_renamed"
    And the "car" box is gone
    When I clean up the results of "cvat_renamed", my CVAT login in the environment
    Then the run's CVAT task is gone
    When I delete the annotation run "cvat_renamed"
    Then the dataset has no annotation runs
    And the "car" box is gone
    And the other "ground_truth" labels are unchanged to the bit
    And the audit trail of "cvat_renamed" tells, in this order, "Requested, TaskStarted, TaskCreated, UploadCompleted, Renamed, load, ChangesApplied, CleanedUp, Deleted"

  Scenario: Deleting a run's record leaves its CVAT task and the labels it loaded
    When I annotate the first sample with key "cvat_delete"
      """
      {"label_field": "ground_truth"}
      """
    And the annotator moves the first "person" box
    And I load the annotations of "cvat_delete"
    And I delete the annotation run "cvat_delete"
    Then the dataset has no annotation runs
    And the first "person" box was moved where the annotator put it
    And the run's CVAT task is still there
    And the audit trail of "cvat_delete" ends with "run record deleted"

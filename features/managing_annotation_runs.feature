Feature: Managing annotation runs
  As a FiftyOne user moving to annoflow
  I want to list, inspect, rename and delete my annotation runs
  So that I keep track of what was sent for annotation, and an audit trail of it

  Background:
    Given the quickstart dataset with 3 samples
    And an annotation backend

  Scenario: Listing and inspecting runs
    When I annotate the label field "ground_truth" with key "cvat_basic_recipe"
    Then the dataset's annotation runs are "cvat_basic_recipe"
    And the annotation info of "cvat_basic_recipe" shows 3 samples and the field "ground_truth"

  Scenario: Renaming a run keeps its history
    Given I annotated the label field "ground_truth" with key "old_key"
    When I rename the annotation run "old_key" to "new_key"
    Then the dataset's annotation runs are "new_key"
    And asking for the annotation run "old_key" fails with "no annotation run with key 'old_key'"
    And the audit trail tells "renamed 'old_key' -> 'new_key'"

  Scenario: Deleting a run deletes its record only
    Given I annotated the label field "ground_truth" with key "cvat_delete"
    When I delete the annotation run "cvat_delete"
    Then the dataset has no annotation runs
    And the dataset still has 3 samples with their ground_truth labels
    And the audit trail tells "run record deleted"

  Scenario: A key is used once
    Given I annotated the label field "ground_truth" with key "taken"
    When I annotate the label field "predictions" with key "taken"
    Then the request fails with "already has an annotation run with key 'taken'"

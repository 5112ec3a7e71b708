Feature: Unexpected annotations
  As a FiftyOne user whose annotators drew labels the run did not ask for
  I want to choose at load time whether those labels are stored, dropped or handed back to me
  So that nothing outside my schema lands in my dataset without my say, and the run records what did

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"
    When I annotate the first sample with key "cvat_unexpected"
      """
      {"label_field": "ground_truth"}
      """
    And the annotator draws a "person" polyline at [1, 1, 30, 20], which the run did not ask for
    And the annotator draws a "car" polyline at [5, 1, 30, 20, 40, 40], which the run did not ask for

  Scenario: Prompted, I name the field the polylines go to
    When I load the annotations of "cvat_unexpected" and answer "my_polylines" at the prompt
    Then I was asked "Found 2 unexpected polylines: a field to store them in (empty to discard)?"
    And the sample's "my_polylines" field holds the polylines the annotator drew
    And the sample's "ground_truth" labels are as they were
    And the audit trail of "cvat_unexpected" shows a load with "2 added, 0 edited, 0 deleted, 0 rejected"
    And the dataset holds every change the run's events record
    And loading "cvat_unexpected" again changes nothing

  Scenario: Prompted, an empty answer discards them
    When I load the annotations of "cvat_unexpected" and answer "" at the prompt
    Then I was asked "Found 2 unexpected polylines: a field to store them in (empty to discard)?"
    And the sample's fields are as they were
    And the audit trail of "cvat_unexpected" shows a load with "0 added, 0 edited, 0 deleted, 0 rejected"
    And the run's last load counted 2 unexpected labels

  Scenario: Kept in a field named after their type
    When I load the annotations of "cvat_unexpected" keeping unexpected labels
    Then the sample's "polylines" field holds its polylines and the polylines the annotator drew
    And the audit trail of "cvat_unexpected" shows a load with "2 added, 0 edited, 0 deleted, 0 rejected"
    And the dataset holds every change the run's events record

  Scenario: Ignored
    When I load the annotations of "cvat_unexpected" ignoring unexpected labels
    Then the sample's fields are as they were
    And the run's last load counted 2 unexpected labels

  Scenario: Returned to me instead of stored
    When I load the annotations of "cvat_unexpected" asking for unexpected labels back
    Then I got back the polylines the annotator drew, under "polylines"
    And the sample's fields are as they were
    And the run's last load counted 2 unexpected labels

  Scenario: Without a terminal to prompt on, the load is refused and nothing is recorded
    When I try to load the annotations of "cvat_unexpected" with the default prompt and no terminal
    Then the load fails with "no terminal is attached to ask where they go"
    And the sample's fields are as they were
    And the run has recorded no load
    When I load the annotations of "cvat_unexpected" keeping unexpected labels
    Then the sample's "polylines" field holds its polylines and the polylines the annotator drew

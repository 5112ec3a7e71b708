Feature: Changing the destination field
  As a FiftyOne user comparing labels before and after annotation
  I want load_annotations() to write a field's annotations into another field when I ask
  So that the field I sent stays as it was next to its edited copy

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: A run over two fields loads one of them into a new field
    When I annotate the first sample with key "dest_field"
      """
      {"label_schema": {"ground_truth": {}, "predictions": {}}}
      """
    And the annotator moves the first "person" box
    And the annotator deletes the "bicycle" box
    And the annotator deletes the "car" box of "predictions"
    And I load the annotations of "dest_field" into {"ground_truth": "test_field"}
    Then the sample's "ground_truth" labels are as they were
    And the sample's "test_field" holds the ground truth as CVAT has it
    And the "car" box of "predictions" is gone
    And the other "predictions" labels are unchanged to the bit
    And the dataset holds every change the run's events record

  Scenario: The destination of a field the run does not have is refused
    When I annotate the first sample with key "dest_field"
      """
      {"label_field": "ground_truth"}
      """
    And I try to load the annotations of "dest_field" into {"predictions": "test_field"}
    Then the load fails with "dest_field names fields the run does not have: ['predictions']"
    And the dataset has no field "test_field"

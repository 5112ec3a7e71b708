Feature: Label schemas are checked before anything is sent
  As an annotation lead
  I want a bad schema refused with every problem named
  So that no half-made task ever reaches CVAT

  Background:
    Given the quickstart dataset with 2 samples
    And an annotation backend

  Scenario: A new field needs a label type
    When I annotate the label field "new_field" with classes "dog, cat" and key "bad"
    Then the request fails with "a new field needs a 'type'"
    And no annotation run is recorded
    And nothing was sent to the annotation backend

  Scenario: The schema of an existing field is inferred
    When I annotate the label field "ground_truth" with key "inferred"
    Then the run's schema for "ground_truth" has label type "detections"
    And the run's schema for "ground_truth" has the dataset's classes
    And the run's schema for "ground_truth" has an attribute "iscrowd" of type "text"

  Scenario: Every problem is listed at once
    When I annotate with the label schema
      """
      {"new_a": {"classes": ["x"]}, "new_b": {"type": "detections"}, "ground_truth": {"attributes": {"a1": {"type": "select"}}}}
      """
    Then the request fails listing 3 problems

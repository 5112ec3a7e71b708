Feature: FiftyOne datasets with annoflow's CVAT engine
  As a FiftyOne user whose data lives in FiftyOne datasets
  I want to choose samples with FiftyOne's own views and send them to CVAT through annoflow
  So that my FiftyOne dataset gets the annotators' edits back exactly once, with the run's audit trail

  Background:
    Given a FiftyOne dataset of the quickstart with 8 samples, evaluated with FiftyOne's evaluate_detections
    And a CVAT server

  Scenario: The basic recipe on a FiftyOne dataset and FiftyOne's views
    When I select with FiftyOne's filter_labels and sort_by the sample with the most high-confidence false positives
    And I annotate its "ground_truth" through annoflow.fiftyone with key "fo_basic_recipe"
    And the annotator deletes the first box and draws a new one
    And I load the annotations of "fo_basic_recipe" into the FiftyOne dataset
    Then FiftyOne shows the new box on the sample under its own ObjectId, and not the deleted one
    And FiftyOne shows every other label of the dataset as it was
    And the audit trail of the FiftyOne run "fo_basic_recipe" shows a load with "1 added, 0 edited, 1 deleted, 0 rejected"
    And loading "fo_basic_recipe" into the FiftyOne dataset again changes nothing
    And FiftyOne's view of the run holds the annotated sample
    And after cleanup and delete_annotation_run the FiftyOne dataset has no run and keeps its labels

  Scenario: A filtered view uploads only the labels it shows, and the load keeps the hidden ones
    When I annotate the "ground_truth" labels FiftyOne's filter_labels keeps of class "person" with key "fo_people"
    And the annotator deletes the first box and draws a new one
    And I load the annotations of "fo_people" into the FiftyOne dataset
    Then the run uploaded only "person" boxes
    And FiftyOne shows every "ground_truth" label the view hid as it was

Feature: Importing existing tasks
  As a FiftyOne user with CVAT tasks made outside this dataset's runs
  I want to import a project's tasks, their media and labels, into a dataset
  So that work done in CVAT by any tool lands in my dataset once, with a record of where it came from

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"
    And I annotated the first sample with key "example_import" into the project "example_import"

  Scenario: The simplest case downloads both the annotations and the media
    When I import the project "example_import" into a new dataset, downloading its media into "cvat_import"
    Then the new dataset has 1 sample, whose file in "cvat_import" is a copy of the first sample's
    And its "detections" are the first sample's "ground_truth" boxes, as the project holds them
    And the import is a run of the new dataset whose audit trail shows its tasks and a load

  Scenario: Media already on disk, mapped by their CVAT file names
    When I import the project "example_import" into the dataset itself, with the media mapped by their CVAT names
    Then the dataset still has 4 samples
    And the first sample's "detections" are its "ground_truth" boxes, as the project holds them

  Scenario: A missing file is named before anything is written
    When I import the project "example_import" into a new dataset from an empty folder
    Then the import fails naming the first sample's CVAT file name
    And the new dataset has no samples and no annotation runs

  Scenario: Importing the same project again adds nothing twice
    When I import the project "example_import" into a new dataset, downloading its media into "cvat_import"
    And I import the project "example_import" into the same dataset again
    Then the new dataset has 1 sample, whose file in "cvat_import" is a copy of the first sample's
    And its "detections" are the first sample's "ground_truth" boxes, as the project holds them
    And the last import found its task unchanged

  Scenario: CVAT's own export, imported as the guide's note suggests
    When I export the project's task from CVAT as "CVAT for images 1.1" and import the file into a new dataset, with the media mapped by their CVAT names
    Then the new dataset has 1 sample, the first sample's own file
    And its "detections" are the first sample's "ground_truth" boxes, as the project holds them, with their ids
    When I export the new dataset as CVAT XML and import that file into another dataset
    Then the other dataset's "detections" are the new dataset's, to the bit

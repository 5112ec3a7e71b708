Feature: Uploading alternate media
  As a FiftyOne user whose images hold personal information
  I want CVAT to show anonymised copies of my images while the labels stay on my samples
  So that annotators never see the originals and their edits still land where they belong

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: Edits made on blurred copies are merged into the original samples
    Given every sample has blurred copies in the field "alt_filepath"
    When I annotate one sample with key "cvat_alt_media"
      """
      {"label_field": "ground_truth", "media_field": "alt_filepath"}
      """
    And the annotator looks at the image in CVAT
    And the annotator moves the first "person" box
    And the annotator draws a "dog" box
    And I load the annotations of "cvat_alt_media" with cleanup
    Then the annotator saw the blurred image, not the original
    And the first "person" box was moved where the annotator put it
    And a new "dog" box is in "ground_truth" where the annotator drew it
    And the other "ground_truth" labels are unchanged to the bit
    And the sample still points at its original image and its blurred copy
    And the annotation info of "cvat_alt_media" names the media field "alt_filepath"
    And the audit trail of "cvat_alt_media" shows a load with "1 added, 1 edited, 0 deleted, 0 rejected"
    And the dataset holds every change the run's events record

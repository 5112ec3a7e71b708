Feature: Annotating videos
  As a FiftyOne user with a video dataset
  I want frame-level fields annotated in CVAT, objects followed across frames as tracks
  So that each object keeps its identity and only the frames annotators drew are keyframes

  FiftyOne's CVAT guide, "Annotating videos", run against the CVAT simulator with the real MP4
  files of the video quickstart.

  Background:
    Given the quickstart-video dataset with 2 videos of 8 frames as MP4 files
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: Adding new frame labels
    Given the frame field "detections" is deleted
    When I annotate one sample with key "video"
      """
      {"label_field": "frames.detections", "label_type": "detections", "classes": ["vehicle"],
       "attributes": {"type": {"type": "select", "values": ["sedan", "suv", "truck", "other"], "mutable": false}}}
      """
    And the annotator draws a "vehicle" track with "type" set to "suv", keyframes on task frames 0 and 3, hidden from task frame 6
    And I load the annotations of "video"
    Then frames 1 to 6 of the video have one "vehicle" detection with "type" set to "suv", all with one index
    And its frames 1 and 4 are keyframes and frames 2, 3, 5 and 6 are as CVAT interpolates them
    And frames 7 and 8 of the video have no detections
    And the annotation view of "video" holds the annotated video only
    And loading "video" again changes nothing
    When I clean up the run "video" and delete it
    Then the run's CVAT task is gone
    And the dataset has no annotation run

  Scenario: Editing frame-level label tracks
    Given every 4th frame and the last of the video's "detections" are keyframes
    When I annotate one sample with key "cvat_video"
      """
      {"label_field": "frames.detections"}
      """
    Then CVAT holds one track per object of the video, with shapes on task frames 0, 4 and 7 only
    When the annotator moves the first track on task frame 4
    And I load the annotations of "cvat_video"
    Then that object's label on frame 5 is where the annotator put it, a keyframe with the same id
    And that object's frames 2 to 4 and 6 to 7 are as CVAT interpolates them, with their ids
    And the other labels of the video are unchanged to the bit
    And loading "cvat_video" again changes nothing

  Scenario: Uploading a read-only type and asking for an immutable make
    FiftyOne's CVAT guide, "Restricting label edits": the vehicle tracks go up with their "type"
    as a read-only attribute and a new "make" that is one value per track (mutable false).

    When I annotate one sample with key "cvat_read_only_attrs"
      """
      {"label_field": "frames.detections", "classes": ["vehicle"],
       "attributes": {"type": {"type": "text", "read_only": true}, "make": {"type": "text", "mutable": false}}}
      """
    Then CVAT holds "make" on each track and "type" on each of its shapes
    When the annotator sets the first track's "make" to "volvo" and its "type" to "van" on every frame
    And I load the annotations of "cvat_read_only_attrs" with cleanup
    Then every frame of that object has "make" set to "volvo" and keeps its "type"
    And the other object has no "make"
    And the run's events record a "read_only" refusal on each frame of that object
    And the run's CVAT task is gone

  Scenario: Using frame start, stop and step
    FiftyOne's CVAT guide, "Using frame start, stop, step": a new frame field on subsampled clips,
    the start given per video by its file path, the step round robin, one stop for all.

    When I annotate both videos' "frames.new_detections" starting the first at frame 3 and the second at frame 1, with steps 1 and 3, stopping at frame 6
    Then the first video's task shows its frames 4, 5, 6 and 7 and the second's its frames 2 and 5
    When the annotator draws a "vehicle" box on task frame 2 of the first task and on task frame 1 of the second
    And I load the annotations of "frame_args" with cleanup
    Then the first video has one new detection, on its frame 6, and the second one, on its frame 5
    And the run's CVAT task is gone
    When I delete the annotation run "frame_args"
    Then the dataset has no annotation run

Feature: Loading annotations back from CVAT
  As a FiftyOne user
  I want load_annotations() to merge what annotators did in CVAT into my dataset
  Exactly once, keeping what I restricted, and telling me what it refused

  Background:
    Given the quickstart dataset with 4 samples and every label type
    And a CVAT server with the users "annotator", "user2" and "user3"

  Scenario: Editing existing labels
    When I annotate one sample with key "cvat_existing_field"
      """
      {"label_field": "ground_truth"}
      """
    And the annotator moves one box, deletes another and draws a new one
    And I load the annotations of "cvat_existing_field"
    Then the sample has the moved box, not the deleted one, and the new one
    And the other labels are unchanged to the bit
    And loading again changes nothing

  Scenario: Restricted edits are refused and recorded
    When I annotate one sample with key "cvat_edit_restrictions"
      """
      {"label_field": "ground_truth", "allow_additions": false, "allow_deletions": false,
       "allow_label_edits": false, "allow_spatial_edits": false}
      """
    And the annotator moves one box, deletes another and draws a new one
    And I load the annotations of "cvat_edit_restrictions"
    Then the sample's ground_truth labels are as they were
    And the load refused "allow_additions, allow_deletions, allow_spatial_edits"

  Scenario: Unexpected annotations kept in a field named after their type
    When I annotate one sample with key "cvat_unexpected"
      """
      {"label_field": "predictions"}
      """
    And the annotator draws a polyline, which the run did not ask for
    And I load the annotations of "cvat_unexpected" keeping unexpected labels
    Then the sample has one more polyline in the field "polylines"

  Scenario: Loading into another field
    When I annotate one sample with key "dest_field"
      """
      {"label_field": "ground_truth"}
      """
    And the annotator moves one box, deletes another and draws a new one
    And I load the annotations of "dest_field" into "test_field"
    Then the sample's ground_truth labels are as they were
    And the sample's "test_field" holds what CVAT holds

  Scenario: Scalar fields with and without classes
    When I annotate one sample with key "cvat_scalar_fields"
      """
      {"label_schema": {"scalar1": {"type": "scalar"},
                        "scalar2": {"type": "scalar", "classes": ["class1", "class2", "class3"]}}}
      """
    And the annotator types "42" into the value of a "scalar1" tag and tags the sample "class2"
    And I load the annotations of "cvat_scalar_fields"
    Then the sample's "scalar1" holds the str "42"
    And the sample's "scalar2" holds the str "class2"
    And loading again changes no value

  Scenario Outline: Scalar values come back in their field's kind
    Given the first sample's "<field>" holds <before>
    When I annotate one sample with key "cvat_typed_scalar"
      """
      {"label_field": "<field>", "label_type": "scalar"}
      """
    And the annotator changes the value of the "<field>" tag to "<typed>"
    And I load the annotations of "cvat_typed_scalar"
    Then the sample's "<field>" holds the <kind> <after>

    Examples:
      | field | before | typed | kind  | after |
      | count | 3      | 12    | int   | 12    |
      | ratio | 0.5    | 0.125 | float | 0.125 |
      | flag  | false  | True  | bool  | true  |
      | note  | "a"    | b c   | str   | "b c" |

  Scenario: A scalar value that does not fit its field is refused
    Given the first sample's "count" holds 3
    When I annotate one sample with key "cvat_wrong_kind"
      """
      {"label_field": "count", "label_type": "scalar"}
      """
    And the annotator changes the value of the "count" tag to "three"
    And I load the annotations of "cvat_wrong_kind"
    Then the sample's "count" holds the int 3
    And the load refused "scalar_kind"

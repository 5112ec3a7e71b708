"""Which index a track read back takes: FiftyOne's rule for continued, merged, split and new tracks."""

from annoflow.domain.track_indexes import TrackSeen, track_indexes

EXISTING = {"a1": 1, "a2": 1, "b1": 2, "b2": 2, "c1": 5}


def test_a_track_keeps_the_index_of_the_labels_it_holds():
    assert track_indexes([TrackSeen(10, 0, ("a1", "a2")), TrackSeen(11, 0, ("b1",))], EXISTING, [1, 2, 5]) == {
        10: 1,
        11: 2,
    }


def test_tracks_merged_in_the_tool_take_the_smallest_index():
    assert track_indexes([TrackSeen(10, 0, ("b1", "a2"))], EXISTING, [1, 2, 5]) == {10: 1}


def test_the_later_part_of_a_split_track_is_a_new_object_with_a_new_index():
    # both parts hold labels of track 1 (CVAT copies the label_id): the first by frame keeps it
    got = track_indexes([TrackSeen(21, 4, ("a2",)), TrackSeen(20, 0, ("a1",))], EXISTING, [1, 2, 5])
    assert got == {20: 1, 21: 6}


def test_new_tracks_get_indexes_past_every_index_the_video_holds():
    got = track_indexes(
        [TrackSeen(30, 3, ()), TrackSeen(31, 1, ("nothing",)), TrackSeen(10, 0, ("c1",))], EXISTING, [1, 2, 5, 9]
    )
    assert got == {10: 5, 31: 10, 30: 11}
    assert track_indexes([TrackSeen(1, 0, ())], {}, []) == {1: 1}

"""A polygon an annotator draws with a mask target's class is painted into the segmentation (FiftyOne
loads it as an unexpected polyline): its pixels take the class's value, the mask's others keep theirs."""

from __future__ import annotations

import numpy as np

from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.quickstart import MASK_TARGETS


def test_a_polygon_of_a_mask_targets_class_paints_the_mask_exactly_once(dataset, login, cvat_sim):
    results = dataset.annotate("seg", label_schema={"segmentation": {"mask_targets": MASK_TARGETS}}, **login)
    (task_id,) = results.task_ids
    sample_id = results.frame_id_map[task_id][0]["sample_id"]
    before = next(s for s in dataset.iter_samples() if s.id == sample_id).fields["segmentation"].mask.copy()
    with ScriptedAnnotator(cvat_sim.url, USER, PASSWORD) as annotator:
        # a square from (10, 10) to (30, 30) as a polygon, drawn with the class of value 3 ("cat")
        annotator.add_shape(task_id, "cat", 0, "polygon", [10.0, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0])
    report = dataset.load_annotations("seg", unexpected="return", **login)
    assert report == {} and report.painted == 1 and report.edited == 1  # nothing loads as an unexpected polyline
    after = next(s for s in dataset.iter_samples() if s.id == sample_id).fields["segmentation"].mask
    inside = np.zeros_like(before, dtype=bool)
    inside[10:30, 10:30] = True
    assert (after[inside] == 3).all() and (after[~inside] == before[~inside]).all()
    again = dataset.load_annotations("seg", unexpected="return", **login)
    assert (again.edited, again.added, again.unchanged_tasks) == (0, 0, 1)

"""``annoflow.utils``: the utility modules FiftyOne's CVAT guide imports (``fiftyone.utils.annotations``,
``fiftyone.utils.cvat``), under annoflow's name."""

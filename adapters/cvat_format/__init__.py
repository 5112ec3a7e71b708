"""Conversion between annoflow's labels and CVAT's JSON (labels, attributes, tags, shapes)."""

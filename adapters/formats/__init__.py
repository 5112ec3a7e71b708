"""A user's own data in and out: media folders, COCO, YOLO and Pascal VOC label files.

Every reader builds every sample in memory and checks it before the store is touched, so a
bad file adds nothing (the store's ``add_samples`` is one transaction); media stay where they are.
"""

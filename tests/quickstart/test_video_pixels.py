"""The decoded MP4 shows each track's box where ``frames.detections`` says it is."""

from __future__ import annotations

import imageio_ffmpeg
import numpy as np

from annoflow.adapters.quickstart import generate_quickstart_video
from annoflow.adapters.quickstart.images import _COLOURS


def test_the_top_track_is_drawn_at_its_box_in_every_frame(tmp_path):
    (video,) = generate_quickstart_video(tmp_path, num_samples=1, num_frames=8, fps=4, size=(160, 96), seed=5)
    width, height = video.metadata.width, video.metadata.height
    reader = imageio_ffmpeg.read_frames(video.filepath)
    next(reader)  # the stream's metadata
    for number, raw in enumerate(reader, start=1):
        pixels = np.frombuffer(raw, np.uint8).reshape(height, width, 3).astype(int)
        top = video.frames[number]["detections"].detections[-1]  # tracks are drawn in order: the last is on top
        x, y, w, h = top.bounding_box
        centre = pixels[int((y + h / 2) * height), int((x + w / 2) * width)]
        # Tracks take colours in index order; H.264 keeps flat areas within a few levels.
        assert np.abs(centre - _COLOURS[(top.index - 1) % len(_COLOURS)]).max() < 40, number
    assert number == video.metadata.frame_count

"""The synthetic video quickstart: real MP4s of moving boxes, tracked in ``frames.detections``."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np

from annoflow.adapters.quickstart.images import _COLOURS, _background, sample_id
from annoflow.domain.labels import Detection, Detections
from annoflow.domain.samples import Sample, VideoMetadata

VEHICLE_TYPES = ("sedan", "suv", "truck")


def generate_quickstart_video(
    directory: str | Path,
    *,
    num_samples: int = 3,
    num_frames: int = 30,
    fps: int = 10,
    size: tuple[int, int] = (320, 240),
    tracks_per_video: tuple[int, int] = (1, 4),
    seed: int = 51,
    write_videos: bool = True,
) -> list[Sample]:
    """Write ``num_samples`` MP4s; each track keeps its ``index`` and ``type`` across frames."""
    width, height = size
    if width % 16 or height % 16:
        raise ValueError(f"video size must be a multiple of 16 in both sides (H.264 macro blocks), got {size}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    samples = []
    for index in range(num_samples):
        background = _background(rng, width, height)
        tracks = []
        for track in range(int(rng.integers(tracks_per_video[0], tracks_per_video[1] + 1))):
            bw, bh = int(rng.integers(width // 8, width // 3)), int(rng.integers(height // 8, height // 3))
            start = np.array([rng.integers(0, width - bw), rng.integers(0, height - bh)], float)
            velocity = rng.uniform(-3, 3, 2)
            tracks.append(
                (
                    track + 1,
                    bw,
                    bh,
                    start,
                    velocity,
                    VEHICLE_TYPES[int(rng.integers(0, 3))],
                    _COLOURS[track % len(_COLOURS)],
                )
            )
        frames: dict[int, dict] = {}
        pixels = []
        for number in range(1, num_frames + 1):
            image = background.copy()
            detections = []
            for track_index, bw, bh, start, velocity, kind, colour in tracks:
                x0, y0 = (start + velocity * (number - 1)).round().astype(int)
                x0, y0 = int(np.clip(x0, 0, width - bw)), int(np.clip(y0, 0, height - bh))
                image[y0 : y0 + bh, x0 : x0 + bw] = colour
                detections.append(
                    Detection(
                        label="vehicle",
                        bounding_box=(x0 / width, y0 / height, bw / width, bh / height),
                        index=track_index,
                        attributes={"type": kind},
                        id=sample_id(rng),
                    )
                )
            frames[number] = {"detections": Detections(detections)}
            pixels.append(image)
        path = directory / f"video_{index:03d}.mp4"
        if write_videos:
            writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, quality=7, macro_block_size=16)
            writer.send(None)
            for image in pixels:
                writer.send(np.ascontiguousarray(image))
            writer.close()
        samples.append(
            Sample(
                id=sample_id(rng),
                filepath=str(path),
                media_type="video",
                metadata=VideoMetadata(width, height, num_frames, fps),
                frames=frames,
            )
        )
    return samples

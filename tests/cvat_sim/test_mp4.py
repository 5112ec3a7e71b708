"""The simulator reads a video's frame count and size from its MP4 header exactly when that gives
what decoding gives (CVAT decodes the video to count its frames), and decodes otherwise."""

from __future__ import annotations

import struct
from pathlib import Path

import imageio_ffmpeg
import pytest

from annoflow.adapters.cvat_sim.media import _video_info
from annoflow.adapters.cvat_sim.mp4 import mp4_video_info
from annoflow.adapters.quickstart.videos import generate_quickstart_video


def _decoded(path: Path) -> tuple[int, int, int]:
    reader = imageio_ffmpeg.read_frames(str(path))
    width, height = next(reader)["size"]
    frames = sum(1 for _ in reader)
    return frames, width, height


def _video(folder: Path, frames: int, size: tuple[int, int] = (64, 48)) -> Path:
    (sample,) = generate_quickstart_video(folder, num_samples=1, num_frames=frames, size=size, tracks_per_video=(1, 2))
    return Path(sample.filepath)


@pytest.mark.parametrize(
    ("frames", "size"), [(1, (64, 48)), (2, (64, 48)), (7, (320, 240)), (31, (160, 96)), (300, (64, 48))]
)
def test_the_header_gives_what_decoding_gives(tmp_path: Path, frames: int, size: tuple[int, int]) -> None:
    path = _video(tmp_path, frames, size)
    assert mp4_video_info(path) == _decoded(path) == (frames, *size)


def _patched(path: Path, box: bytes, offset: int, fmt: str, value: int) -> Path:
    """A copy of the video with one field of its first ``box`` (at ``offset`` in its payload) changed."""
    data = bytearray(path.read_bytes())
    at = data.index(box) + 4 + offset
    struct.pack_into(fmt, data, at, value)
    out = path.with_name("patched_" + path.name)
    out.write_bytes(bytes(data))
    return out


def test_an_edit_list_that_trims_the_video_is_left_to_decoding(tmp_path: Path) -> None:
    path = _video(tmp_path, 30)
    assert b"elst" in path.read_bytes()
    trimmed = _patched(path, b"elst", 8, ">I", 1)  # the one edit's duration: one tick of the movie
    assert mp4_video_info(trimmed) is None
    assert _video_info(trimmed) == _decoded(trimmed)


def test_a_rotated_video_is_left_to_decoding(tmp_path: Path) -> None:
    path = _video(tmp_path, 5)
    rotated = _patched(path, b"tkhd", 40, ">i", 0)  # the matrix's first entry: no longer the identity
    assert mp4_video_info(rotated) is None


def test_what_is_no_mp4_is_left_to_decoding(tmp_path: Path) -> None:
    path = _video(tmp_path, 5)
    cut = tmp_path / "cut.mp4"
    data = path.read_bytes()
    cut.write_bytes(data[: data.index(b"moov") + 40])  # the header cut short
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x10nothing at all, really")
    assert mp4_video_info(cut) is None
    assert mp4_video_info(garbage) is None
    assert mp4_video_info(tmp_path / "missing.mp4") is None

"""Fault injection for the reliability tests, id renumbering, and video media."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.cvat_sim.test_server_api import LABELS, _task_with_data


def test_nth_request_fails_with_a_status_then_recovers(cvat_sim, api):
    cvat_sim.faults.add("GET", r"^/api/projects$", nth=2, status=503)
    assert api.get("/api/projects").status_code == 200
    failed = api.get("/api/projects")
    assert failed.status_code == 503 and failed.json()["detail"] == "simulated fault: 503"
    assert api.get("/api/projects").status_code == 200


def test_rate_limit_with_retry_after(cvat_sim, api):
    cvat_sim.faults.add("*", r"^/api/tasks", status=429, retry_after=0.25)
    answer = api.get("/api/tasks")
    assert answer.status_code == 429 and answer.headers["retry-after"] == "0.25"


def test_hang_past_the_client_timeout(cvat_sim, api):
    cvat_sim.faults.add("GET", r"^/api/users/self$", hang=1.0)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/api/users/self", timeout=0.2)
    time.sleep(1.0)  # let the hung request finish before the next one
    assert api.get("/api/users/self").status_code == 200


def test_connection_reset(cvat_sim, api):
    cvat_sim.faults.add("POST", r"^/api/projects$", reset=True)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.post("/api/projects", json={"name": "lost"})
    assert api.get("/api/projects").json()["count"] == 0  # nothing was created
    assert api.post("/api/projects", json={"name": "kept"}).status_code == 201


def test_ids_may_change_on_save(cvat_sim, api, images):
    task_id = _task_with_data(api, images)
    cat = api.get("/api/labels", params={"task_id": task_id}).json()["results"][0]
    cvat_sim.state.renumber_on_save = True
    shape = {"type": "rectangle", "frame": 0, "label_id": cat["id"], "points": [0, 0, 1, 1]}
    answered = api.put(f"/api/tasks/{task_id}/annotations", json={"shapes": [shape], "tags": [], "tracks": []}).json()
    stored = api.get(f"/api/tasks/{task_id}/annotations").json()
    assert stored["shapes"][0]["id"] != answered["shapes"][0]["id"]


def test_video_is_decoded_for_frames_and_size(cvat_sim, api, tmp_path):
    from annoflow.adapters.quickstart import generate_quickstart_video

    (video,) = generate_quickstart_video(tmp_path, num_samples=1, num_frames=20, size=(160, 96))
    task_id = api.post("/api/tasks", json={"name": "video", "labels": LABELS, "segment_size": 8}).json()["id"]
    with open(video.filepath, "rb") as handle:
        api.post(
            f"/api/tasks/{task_id}/data/",
            data={"image_quality": "70", "start_frame": "2", "frame_filter": "step=3"},
            files={"client_files[0]": ("clip.mp4", handle)},
        )
    task = api.get(f"/api/tasks/{task_id}").json()
    assert task["mode"] == "interpolation" and task["size"] == 6  # frames 2, 5, 8, 11, 14, 17
    meta = api.get(f"/api/tasks/{task_id}/data/meta").json()
    assert meta["frames"] == [
        {"name": "clip.mp4", "width": 160, "height": 96, "related_files": 0, "has_related_context": False}
    ]
    jobs = api.get("/api/jobs", params={"task_id": task_id}).json()["results"]
    assert [(j["start_frame"], j["stop_frame"]) for j in jobs] == [(0, 5)]


@pytest.mark.parametrize("quality", ["original", "compressed"])
def test_a_video_task_serves_its_frames_as_pngs_numbered_from_its_start_and_step(cvat_sim, api, tmp_path, quality):
    import io

    import numpy as np
    from PIL import Image

    from annoflow.adapters.quickstart import generate_quickstart_video
    from annoflow.adapters.quickstart.images import _COLOURS

    (video,) = generate_quickstart_video(
        tmp_path, num_samples=1, num_frames=12, size=(160, 96), tracks_per_video=(1, 1)
    )
    task_id = api.post("/api/tasks", json={"name": "video", "labels": LABELS}).json()["id"]
    with open(video.filepath, "rb") as handle:
        api.post(
            f"/api/tasks/{task_id}/data/",
            data={"image_quality": "70", "start_frame": "2", "frame_filter": "step=3"},
            files={"client_files[0]": ("clip.mp4", handle)},
        )
    for number in range(4):  # the video's frames 2, 5, 8, 11 (0-based): the dataset's 3, 6, 9, 12
        answer = api.get(f"/api/tasks/{task_id}/data", params={"type": "frame", "number": number, "quality": quality})
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        pixels = np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGB")).astype(int)
        assert pixels.shape == (96, 160, 3)
        (box,) = video.frames[2 + 3 * number + 1]["detections"].detections
        x, y, w, h = box.bounding_box
        assert np.abs(pixels[int((y + h / 2) * 96), int((x + w / 2) * 160)] - _COLOURS[0]).max() < 40, number
    refused = api.get(f"/api/tasks/{task_id}/data", params={"type": "frame", "number": 4})
    # as CVAT's TaskFrameProvider words it (its upper bound is the task's size)
    assert (
        refused.status_code == 400
        and refused.json() == "Invalid frame '4'. The frame number should be in the [0, 4] range"
    )


def _video_task(api, tmp_path, **fields):
    from annoflow.adapters.quickstart import generate_quickstart_video

    (video,) = generate_quickstart_video(
        tmp_path, num_samples=1, num_frames=12, size=(160, 96), tracks_per_video=(1, 1)
    )
    task_id = api.post("/api/tasks", json={"name": "video", "labels": LABELS}).json()["id"]
    with open(video.filepath, "rb") as handle:
        api.post(
            f"/api/tasks/{task_id}/data/",
            data={"image_quality": "70", "start_frame": "2", "frame_filter": "step=3", **fields},
            files={"client_files[0]": ("clip.mp4", handle)},
        )
    return task_id, video


def _top_track_seen(video, pixels, task_frame):
    import numpy as np

    from annoflow.adapters.quickstart.images import _COLOURS

    (box,) = video.frames[2 + 3 * task_frame + 1]["detections"].detections
    x, y, w, h = box.bounding_box
    height, width = pixels.shape[:2]
    return np.abs(pixels[int((y + h / 2) * height), int((x + w / 2) * width)].astype(int) - _COLOURS[0]).max() < 40


@pytest.mark.parametrize("quality", ["original", "compressed"])
def test_a_video_tasks_chunks_are_mp4s_of_its_task_frames(cvat_sim, api, tmp_path, quality):
    import imageio_ffmpeg
    import numpy as np

    task_id, video = _video_task(api, tmp_path, chunk_size="3")
    task = api.get(f"/api/tasks/{task_id}").json()
    assert task["data_chunk_size"] == 3 and task["data_compressed_chunk_type"] == "video"
    for number, frames in ((0, [0, 1, 2]), (1, [3])):  # 4 task frames: the video's 2, 5, 8, 11
        answer = api.get(f"/api/tasks/{task_id}/data", params={"type": "chunk", "number": number, "quality": quality})
        assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
        assert answer.headers["x-checksum"].isdigit() and answer.headers["x-updated-date"] == task["updated_date"]
        path = tmp_path / f"chunk{number}.mp4"
        path.write_bytes(answer.content)
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        decoded = [np.frombuffer(raw, dtype=np.uint8).reshape(96, 160, 3) for raw in reader]
        assert meta["size"] == (160, 96) and len(decoded) == len(frames)
        assert all(_top_track_seen(video, pixels, frame) for pixels, frame in zip(decoded, frames, strict=True))
    refused = api.get(f"/api/tasks/{task_id}/data", params={"type": "chunk", "number": 2, "quality": quality})
    assert refused.status_code == 400
    assert refused.json() == "Invalid chunk number '2'. The chunk number should be in the [0, 1] range"


def test_zip_chunks_hold_jpegs_of_a_videos_frames_and_an_image_tasks_files(cvat_sim, api, tmp_path, images):
    import io
    import zipfile

    import numpy as np
    from PIL import Image

    task_id, video = _video_task(api, tmp_path, chunk_size="3", use_zip_chunks="true")
    answer = api.get(f"/api/tasks/{task_id}/data", params={"type": "chunk", "number": 0, "quality": "compressed"})
    assert answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert archive.namelist() == ["000000.jpeg", "000001.jpeg", "000002.jpeg"]
        for k, name in enumerate(archive.namelist()):
            assert _top_track_seen(video, np.asarray(Image.open(archive.open(name)).convert("RGB")), k)
    image_task = _task_with_data(api, images)
    for quality, expected in (("original", [Path(p).read_bytes() for p in images]), ("compressed", None)):
        answer = api.get(f"/api/tasks/{image_task}/data", params={"type": "chunk", "number": 0, "quality": quality})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
            names = archive.namelist()
            assert len(names) == len(images) and names[0].startswith("000000.")
            if expected is not None:
                assert [archive.read(n) for n in names] == expected
            else:
                assert all(n.endswith(".jpeg") and Image.open(archive.open(n)).format == "JPEG" for n in names)


def test_exchanges_are_seen_only_while_someone_listens(monkeypatch):
    # Without a listener the middleware passes requests straight through (no copy of each body
    # kept for nobody); a listener set on a running simulator sees the requests from then on.
    from annoflow.adapters.cvat_sim import faults
    from annoflow.adapters.cvat_sim.server import CvatSimulator

    recorded = []
    real = faults.FaultMiddleware._recorded

    async def counting(self, *args):
        recorded.append(args[0]["path"])
        await real(self, *args)

    monkeypatch.setattr(faults.FaultMiddleware, "_recorded", counting)
    seen = []
    with CvatSimulator(users={"bob": "pw"}).serve() as sim:
        assert httpx.get(f"{sim.url}/api/server/about").status_code == 200
        assert recorded == []
        sim.on_exchange = seen.append
        assert httpx.get(f"{sim.url}/api/server/about").status_code == 200
        sim.on_exchange = None
        assert httpx.get(f"{sim.url}/api/server/about").status_code == 200
    assert recorded == ["/api/server/about"] and [e.path for e in seen] == ["/api/server/about"]

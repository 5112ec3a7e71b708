"""load_annotations() against a server that lies: the simulator behind a proxy that rewrites its answers.

What the server sends is not trusted. A claim (label_id, CVAT id) holds only for a label of the
object's own sample; an object that cannot be read is refused as a ``Rejected`` event (rule
``malformed``) naming task, job and frame, and the rest loads; a frame's objects past
``max_objects_per_frame`` are refused unread; a document that is no annotations is one
`CVATAnswerError` naming the request. The label a refused object stands for is kept, so when the
server is clean again nothing comes back under a new id.
"""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from annoflow.adapters.cvat.errors import CVATAnswerError
from annoflow.adapters.cvat_sim.annotator import ScriptedAnnotator
from annoflow.domain.labels import labels_in
from tests.cvat_backend.conftest import PASSWORD, USER
from tests.rewriting_proxy import Answer, RewritingProxy

ANNOTATIONS = r"^/api/tasks/\d+/annotations/?$"
META = r"^/api/tasks/\d+/data/meta/?$"
FIELDS = ("ground_truth", "predictions")
SCHEMA = {"ground_truth": {"type": "instances"}, "predictions": {"type": "detections"}}
_ID = re.compile(r"^[0-9a-f]{24}$")


@pytest.fixture
def proxy(cvat_sim):
    with RewritingProxy(cvat_sim.url) as running:
        yield running


@pytest.fixture
def run(dataset, login, proxy):
    """3 images (96 x 64) in one task of two jobs (frames 0-1, 2): instance masks and boxes."""
    results = dataset.limit(3).annotate("hostile", label_schema=SCHEMA, segment_size=2, **login)
    (task_id,) = results.task_ids
    return _Run(dataset, {**login, "url": proxy.url}, proxy, task_id, results.job_ids[task_id])


class _Run:
    def __init__(self, dataset, login, proxy, task_id, job_ids) -> None:
        self.dataset, self.login, self.proxy, self.task_id, self.job_ids = dataset, login, proxy, task_id, job_ids
        self.before = self.labels()

    def labels(self) -> dict[str, tuple[str, str, Any]]:
        """label id -> (sample id, field, label) for every label of the run's samples."""
        return {
            label.id: (sample.id, field, label)
            for sample in self.dataset.limit(3).iter_samples()
            for field in FIELDS
            for label in labels_in(sample.fields.get(field))
        }

    def load(self, **options: Any) -> Any:
        return self.dataset.load_annotations("hostile", unexpected="ignore", **options, **self.login)

    def events(self, name: str) -> list[Any]:
        run = self.dataset.registry.get_run("quickstart", "hostile")
        return [e for e in self.dataset.registry.history(run.id) if type(e).__name__ == name]

    def rejections(self, rule: str) -> list[Any]:
        return [e.rejection for e in self.events("Rejected") if e.rejection.rule == rule]

    def summary(self) -> tuple[int, int, int]:
        s = self.dataset.last_load.summary
        return s.added, s.edited, s.deleted


def _claim(obj: dict[str, Any]) -> str:
    """The label_id an object carries (the only attribute value that is a 24-hex id)."""
    return next(a["value"] for a in obj["attributes"] if _ID.match(a["value"]))


def _first(data: dict[str, Any], frame: int, shape_type: str) -> dict[str, Any]:
    return next(s for s in data["shapes"] if s["frame"] == frame and s["type"] == shape_type)


def _on_first(shape_type: str, change: Callable[[dict[str, Any]], Any]) -> Callable[[Any], Any]:
    """A rewrite of the first ``shape_type`` shape on frame 0: ``change`` edits it in place."""

    def rewrite(data: dict[str, Any]) -> dict[str, Any]:
        change(_first(data, 0, shape_type))
        return data

    return rewrite


def _victim(run: _Run, shape_type: str, frame: int = 0) -> str:
    """The label id of the first ``shape_type`` shape on ``frame``, as the server holds it now."""
    with ScriptedAnnotator(run.proxy.upstream, USER, PASSWORD) as annotator:
        return _claim(_first(annotator.annotations(run.task_id), frame, shape_type))


# --- 1. a claim holds only for a label of the object's own sample ---------------------------------


def test_a_shape_claiming_another_frame_s_label_changes_neither_label(run):
    victim, other = _victim(run, "rectangle", 0), _victim(run, "rectangle", 1)

    def forge(shape):
        shape["points"] = [p + 3.0 for p in shape["points"]]  # moved on frame 0, and claims frame 1's box
        for attribute in shape["attributes"]:
            if attribute["value"] == victim:
                attribute["value"] = other

    run.proxy.rewrite_json("GET", ANNOTATIONS, _on_first("rectangle", forge))
    run.load()
    after = run.labels()
    assert after[other] == run.before[other]  # frame 1's box is not moved to where frame 0's shape is
    assert set(after) == set(run.before)  # the shape is still frame 0's by its CVAT id: nothing deleted or added
    assert after[victim][2].bounding_box != run.before[victim][2].bounding_box  # it moved
    assert run.summary() == (0, 1, 0)
    run.proxy.clear()
    run.load()  # the server's stamp of the task is the forged download's: trusted, nothing is read
    assert run.labels() == after and run.summary() == (0, 0, 0)
    run.load(recheck=True)  # a user who knows answers were rewritten has every task read again
    back = run.labels()
    assert set(back) == set(run.before) and run.summary() == (0, 1, 0)  # moved back; the same ids throughout
    assert back[victim][2].bounding_box == pytest.approx(run.before[victim][2].bounding_box)


def test_a_shape_claiming_another_frame_s_label_with_an_unknown_cvat_id_is_new(run):
    victim, other = _victim(run, "rectangle", 0), _victim(run, "rectangle", 1)

    def forge(shape):
        shape["id"] = 10**6
        for attribute in shape["attributes"]:
            if attribute["value"] == victim:
                attribute["value"] = other

    run.proxy.rewrite_json("GET", ANNOTATIONS, _on_first("rectangle", forge))
    run.load()
    after = run.labels()
    assert after[other] == run.before[other]
    (added,) = set(after) - set(run.before)
    assert after[added][0] == run.before[victim][0]  # a new box on frame 0's sample
    assert set(run.before) - set(after) == {victim} and run.summary() == (1, 0, 1)


# --- 2. frames outside the task -------------------------------------------------------------------


@pytest.mark.parametrize("frame", [-1, 3, 50])
def test_a_shape_on_a_frame_outside_the_task_is_refused_and_its_label_kept(run, frame):
    victim = _victim(run, "rectangle")
    run.proxy.rewrite_json("GET", ANNOTATIONS, _on_first("rectangle", lambda shape: shape.update(frame=frame)))
    run.load()
    (refused,) = run.rejections("malformed")
    assert f"frame {frame} is not a frame of the task (0 to 2)" in refused.attempted
    assert f"task {run.task_id}, no frame of the task: shape " in refused.attempted
    assert refused.label_id == victim and refused.sample_id == run.before[victim][0]
    assert run.labels() == run.before and run.summary() == (0, 0, 0)  # not moved to another sample, not deleted
    run.proxy.clear()
    run.load()
    assert run.labels() == run.before  # the same label under the same id when the server is clean again


# --- 3. one malformed object never blocks the load ------------------------------------------------


def _json(change: Callable[[Any], Any]) -> Callable[[bytes], bytes]:
    return lambda body: orjson.dumps(change(orjson.loads(body)))


def _rectangle(change: Callable[[dict[str, Any]], Any]) -> Callable[[bytes], bytes]:
    return _json(_on_first("rectangle", change))


def _mask(change: Callable[[dict[str, Any]], Any]) -> Callable[[bytes], bytes]:
    return _json(_on_first("mask", change))


def _raw(shape_type: str, change: Callable[[dict[str, Any], str], None], text: str) -> Callable[[bytes], bytes]:
    """JSON orjson does not write (NaN, Infinity, integers past 64 bits): ``change`` puts a marker
    where ``text`` goes in the first ``shape_type`` shape on frame 0, and the text replaces it."""
    marker = "__raw_json__"

    def rewrite(body: bytes) -> bytes:
        data = orjson.loads(body)
        change(_first(data, 0, shape_type), marker)
        return orjson.dumps(data).replace(f'"{marker}"'.encode(), text.encode())

    return rewrite


def _point(shape: dict[str, Any], value: Any) -> None:
    shape["points"][1] = value


def _set_points(points: Any) -> Callable[[dict[str, Any]], None]:
    return lambda shape: shape.update(points=points)


def _mask_runs(change: Callable[[list[float]], list[float]]) -> Callable[[dict[str, Any]], None]:
    return lambda shape: shape.update(points=change(shape["points"][:-4]) + shape["points"][-4:])


def _attribute_value(value: Any) -> Callable[[dict[str, Any]], None]:
    def change(shape):
        shape["attributes"][-1]["value"] = value  # the mask's iscrowd, after its label_id

    return change


def _inverted(shape):
    x1, y1, x2, y2 = shape["points"]
    shape["points"] = [x2, y2, x1, y1]


# case -> (rewrite, the shape type of the object it breaks, what the refusal says, where it says it is)
FRAME_0, NO_FRAME = "frame 0", "no frame of the task"
MALFORMED_OBJECTS = {
    "inverted rectangle": (_rectangle(_inverted), "rectangle", "is inverted (x2 < x1 or y2 < y1)", FRAME_0),
    "rectangle of 0 points": (
        _rectangle(_set_points([])),
        "rectangle",
        "a rectangle is 4 numbers (x1, y1, x2, y2), not 0",
        FRAME_0,
    ),
    "rectangle of 2 points": (_rectangle(_set_points([1.0, 2.0])), "rectangle", "(x1, y1, x2, y2), not 2", FRAME_0),
    "points that are text": (
        _rectangle(_set_points(["1", "2", "3", "4"])),
        "rectangle",
        "its points: the text '1' is not a number",
        FRAME_0,
    ),
    "points that are not a list": (
        _rectangle(_set_points("1,2,3,4")),
        "rectangle",
        "its points are the text '1,2,3,4', not a list of numbers",
        FRAME_0,
    ),
    "NaN in the points": (
        _raw("rectangle", _point, "NaN"),
        "rectangle",
        "its points: nan is not a finite number",
        FRAME_0,
    ),
    "Infinity in the points": (
        _raw("rectangle", _point, "Infinity"),
        "rectangle",
        "its points: inf is not a finite number",
        FRAME_0,
    ),
    "-Infinity in the points": (
        _raw("rectangle", _point, "-Infinity"),
        "rectangle",
        "its points: -inf is not a finite number",
        FRAME_0,
    ),
    "a number past a double's range": (
        _raw("rectangle", _point, "1e400"),
        "rectangle",
        "its points: inf is not a finite number",
        FRAME_0,
    ),
    "rectangle outside its frame": (
        _rectangle(_set_points([500.0, 500.0, 600.0, 600.0])),
        "rectangle",
        "the rectangle [500.0, 500.0, 600.0, 600.0] lies outside the 96x64 frame",
        FRAME_0,
    ),
    "mask runs that do not cover the box": (
        _mask(_mask_runs(lambda runs: [*runs, 1.0])),
        "mask",
        "its runs cover",
        FRAME_0,
    ),
    "a negative mask run": (
        _mask(_mask_runs(lambda runs: [-1.0, runs[0] + 1.0, *runs[1:]])),
        "mask",
        "its run lengths are not whole numbers from 0",
        FRAME_0,
    ),
    "a fractional mask run": (
        _mask(_mask_runs(lambda runs: [runs[0] + 0.5, runs[1] - 0.5, *runs[2:]])),
        "mask",
        "its run lengths are not whole numbers from 0",
        FRAME_0,
    ),
    "a mask without its box": (
        _mask(_set_points([3.0, 4.0])),
        "mask",
        "a mask is run lengths then left, top, right, bottom: 2 number(s) are none",
        FRAME_0,
    ),
    "a mask box past the frame": (
        _mask(_set_points([float(100 * 70), 0.0, 0.0, 99.0, 69.0])),
        "mask",
        "its box (left 0, top 0, right 99, bottom 69) does not lie within the 96x64 frame",
        FRAME_0,
    ),
    "an attribute value that is an object": (
        _mask(_attribute_value({"a": 1})),
        "mask",
        "holds an object, not text",
        FRAME_0,
    ),
    "an attribute value that is a number": (
        _mask(_attribute_value(1)),
        "mask",
        "holds the number 1, not text",
        FRAME_0,
    ),
    "attributes that are not a list": (
        _mask(lambda s: s.update(attributes={"a": 1})),
        "mask",
        "its attributes are an object, not a list",
        FRAME_0,
    ),
    "a frame that is text": (
        _rectangle(lambda s: s.update(frame="0")),
        "rectangle",
        "its frame is the text '0', not an integer",
        NO_FRAME,
    ),
    "a label_id that is text": (
        _rectangle(lambda s: s.update(label_id="7")),
        "rectangle",
        "its label_id is the text '7', not a positive integer",
        FRAME_0,
    ),
    "a missing id": (_rectangle(lambda s: s.pop("id")), "rectangle", "its id is null, not a positive integer", FRAME_0),
    "an id past 64 bits": (
        _raw("rectangle", lambda s, marker: s.update(id=marker), "1" + "0" * 30),
        "rectangle",
        "not a positive integer",
        FRAME_0,
    ),
    "a type that is a number": (
        _rectangle(lambda s: s.update(type=5)),
        "rectangle",
        "its type is the number 5, not a shape type",
        FRAME_0,
    ),
    "an occluded flag that is text": (
        _rectangle(lambda s: s.update(occluded="yes")),
        "rectangle",
        "its occluded flag is the text 'yes', not a boolean",
        FRAME_0,
    ),
}


def _move_a_box_on_frame_1(run: _Run) -> str:
    """A real edit elsewhere in the task, which must load whatever else the answer holds."""
    with ScriptedAnnotator(run.proxy.upstream, USER, PASSWORD) as annotator:
        shape = _first(annotator.annotations(run.task_id), 1, "rectangle")
        annotator.move_shape(run.task_id, shape["id"], [1.0, 2.0, 30.0, 40.0])
    return _claim(shape)


@pytest.mark.parametrize("case", list(MALFORMED_OBJECTS))
def test_a_malformed_object_is_refused_and_the_rest_loads(run, case):
    rewrite, shape_type, problem, where = MALFORMED_OBJECTS[case]
    victim = _victim(run, shape_type)
    edited = _move_a_box_on_frame_1(run)
    run.proxy.rewrite("GET", ANNOTATIONS, rewrite)
    run.load()
    (refused,) = run.rejections("malformed")
    place = f"job {run.job_ids[0]}, frame 0" if where == FRAME_0 else where
    assert refused.attempted.startswith(f"task {run.task_id}, {place}: shape"), refused.attempted
    assert problem in refused.attempted, refused.attempted
    assert (refused.label_id, refused.sample_id, refused.field) == (victim, *run.before[victim][:2])
    assert [e.rejection for e in run.events("Rejected")] == [refused]
    after = run.labels()
    assert run.summary() == (0, 1, 0)  # the edit on frame 1; the refused object's label neither deleted nor edited
    assert after[edited][2].bounding_box == (1.0 / 96, 2.0 / 64, 29.0 / 96, 38.0 / 64)
    assert {k: v for k, v in after.items() if k != edited} == {k: v for k, v in run.before.items() if k != edited}
    run.proxy.clear()
    run.load()  # the server is clean again: the same labels, under the same ids
    assert run.labels() == after and run.summary() == (0, 0, 0)


@pytest.mark.parametrize("element", [["a", "list"], 0, None, "text"])
def test_an_element_that_is_no_object_is_refused_and_names_no_label(run, element):
    victim = _victim(run, "rectangle")

    def replace(data):
        shapes = data["shapes"]
        shapes[shapes.index(_first(data, 0, "rectangle"))] = element
        return data

    run.proxy.rewrite_json("GET", ANNOTATIONS, replace)
    run.load()
    (refused,) = run.rejections("malformed")
    assert refused.attempted.startswith(f"task {run.task_id}, no frame of the task: shape: it is ")
    assert refused.label_id is None and refused.sample_id is None
    # nothing tells which object it was: the box it replaced is gone from the answer, so deleted
    assert set(run.before) - set(run.labels()) == {victim} and run.summary() == (0, 0, 1)


def _frame_zero_size(width: Any) -> Callable[[Any], Any]:
    def change(meta):
        meta["frames"][0]["width"] = width
        return meta

    return change


@pytest.mark.parametrize("width", [0, -96, "96", None])
def test_a_frame_without_a_usable_size_refuses_its_shapes_only(run, width):
    run.proxy.rewrite_json("GET", META, _frame_zero_size(width))
    run.load()
    refused = run.rejections("malformed")
    on_frame_zero = [
        label_id for label_id, (sample_id, _, _) in run.before.items() if sample_id == run.dataset.limit(1).first().id
    ]
    assert len(refused) == len(on_frame_zero)
    assert all("data/meta gives frame 0 no usable size" in r.attempted for r in refused)
    assert {r.label_id for r in refused} == set(on_frame_zero)
    assert run.labels() == run.before and run.summary() == (0, 0, 0)


MALFORMED_DOCUMENTS = {
    "an empty list": (ANNOTATIONS, lambda body: b"[]", "they are a list of 0, not an object"),
    "null": (ANNOTATIONS, lambda body: b"null", "they are null, not an object"),
    "an HTML page after login": (
        ANNOTATIONS,
        lambda body: Answer(b"<!DOCTYPE html><html><body>Sign in</body></html>", content_type="text/html"),
        "text starting '<!DOCTYPE html>",
    ),
    "a cut-off body": (ANNOTATIONS, lambda body: body[: len(body) // 2], "not JSON"),
    "shapes that are an object": (
        ANNOTATIONS,
        _json(lambda data: {**data, "shapes": {"0": 1}}),
        "'shapes' is an object, not a list",
    ),
    "text that is not UTF-8": (ANNOTATIONS, lambda body: body.replace(b'"shapes"', b'"sh\xffapes"'), "not UTF-8"),
    "nesting 100,000 deep": (
        ANNOTATIONS,
        lambda body: body.replace(b'"shapes":[', b'"shapes":[' + b"[" * 100_000),
        "not JSON a server would send",
    ),
    "data/meta without frames": (META, _json(lambda meta: {**meta, "frames": []}), "lists its frames"),
    "data/meta that is a list": (META, lambda body: b"[]", "lists its frames, CVAT answered a list of 0"),
    "data/meta as an HTML page": (
        META,
        lambda body: Answer(b"<html>Sign in</html>", content_type="text/html"),
        "CVAT answered with text/html that is not JSON",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED_DOCUMENTS))
def test_a_malformed_document_is_one_typed_error_naming_the_request(run, case):
    path, rewrite, problem = MALFORMED_DOCUMENTS[case]
    run.proxy.rewrite("GET", path, rewrite)
    with pytest.raises(CVATAnswerError) as raised:
        run.load()
    assert problem in str(raised.value)
    where = "annotations/" if path == ANNOTATIONS else "data/meta"
    assert raised.value.method == "GET" and raised.value.url == f"{run.proxy.url}/api/tasks/{run.task_id}/{where}"
    assert run.events("ShapesImported") == [] and run.labels() == run.before  # nothing recorded, nothing changed
    run.proxy.clear()
    run.load()
    assert run.labels() == run.before and run.summary() == (0, 0, 0)


# --- 4. a mask that declares more pixels than its frame holds --------------------------------------


@pytest.mark.parametrize(
    ("points", "problem"),
    [
        # a box of 10^18 pixels, far past the 96 x 64 frame
        (
            [1e18, 0.0, 0.0, 1e9 - 1, 1e9 - 1],
            "its box (left 0, top 0, right 999999999, bottom 999999999) does not lie within",
        ),
        # a box within the frame, with runs of 2 x 10^8 pixels
        ([1e8, 1e8, 0.0, 0.0, 95.0, 63.0], "a run of 100000000 pixels is longer than its box of 6144"),
    ],
)
def test_a_mask_bomb_is_refused_before_anything_is_allocated(run, points, problem):
    victim = _victim(run, "mask")
    run.proxy.rewrite_json("GET", ANNOTATIONS, _on_first("mask", _set_points(points)))
    tracemalloc.start()
    try:
        run.load()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MiB"  # decoding the second mask's runs takes 200 MB
    (refused,) = run.rejections("malformed")
    assert problem in refused.attempted and refused.label_id == victim
    assert run.labels() == run.before and run.summary() == (0, 0, 0)


# --- 5. a flood of objects --------------------------------------------------------------------------


def _upstream_annotations(run: _Run) -> dict[str, Any]:
    with ScriptedAnnotator(run.proxy.upstream, USER, PASSWORD) as annotator:
        return annotator.annotations(run.task_id)


def _flooded(data: dict[str, Any], count: int, **change: Any) -> tuple[bytes, list[str], list[str]]:
    """The answer with ``count`` new boxes (copies of its first box on frame 0, with ``change``) right
    after that box, and the label ids on frame 0 before the flood and after it."""
    shapes = data["shapes"]
    box = _first(data, 0, "rectangle")
    at = shapes.index(box) + 1
    on_zero = [s for s in shapes if s["frame"] == 0]
    before = [_claim(s) for s in on_zero[: on_zero.index(box) + 1]]
    after = [_claim(s) for s in on_zero[on_zero.index(box) + 1 :]]
    extra = {**box, "attributes": [], **change}
    shapes[at:at] = [{**extra, "id": 10**6 + i} for i in range(count)]
    return orjson.dumps(data), before, after


@pytest.mark.slow  # about 20 s: tracemalloc traces the 300,000 objects read one by one
def test_a_flood_of_objects_on_one_frame_is_refused_past_the_limit_with_memory_bounded(run):
    body, before_flood, after_flood = _flooded(_upstream_annotations(run), 300_000)
    assert len(body) > 60 * 2**20  # 300,000 boxes: parsed at once, about 520 MB of dicts
    run.proxy.rewrite("GET", ANNOTATIONS, lambda _: body)
    limit = 50
    tracemalloc.start()
    try:
        run.load(max_objects_per_frame=limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the client holds the answer twice while it reads it; what the load builds from it stays small
    assert peak < 3 * len(body), f"{peak / 2**20:.0f} MiB for an answer of {len(body) / 2**20:.0f} MiB"
    total = len(before_flood) + 300_000 + len(after_flood)
    summary, *per_label = run.rejections("max_objects_per_frame")
    assert summary.attempted == (
        f"task {run.task_id}, job {run.job_ids[0]}, frame 0: {total:,} objects on this frame, more than "
        f"max_objects_per_frame={limit:,}: the {total - limit:,} after the first {limit:,} were not read"
    )
    assert summary.label_id is None and summary.sample_id == run.before[before_flood[0]][0]
    # the originals the flood pushed past the limit are kept as they are: their objects were not read
    assert sorted(r.label_id for r in per_label) == sorted(after_flood)
    added = limit - len(before_flood)
    assert run.summary() == (added, 0, 0)  # the flood's first boxes, up to the limit, are new boxes
    after = run.labels()
    assert {k: v for k, v in after.items() if k in run.before} == run.before and len(after) == len(run.before) + added
    run.proxy.clear()
    run.load(max_objects_per_frame=limit)
    assert run.rejections("max_objects_per_frame") == [summary, *per_label]  # none more
    assert {k: v for k, v in run.labels().items() if k in run.before} == run.before


def test_the_default_limit_is_10_000_objects_per_frame(run):
    # boxes of a label the task does not have: unexpected labels, ignored, so the store takes none of them
    body, before_flood, after_flood = _flooded(_upstream_annotations(run), 10_000, label_id=10**6)
    run.proxy.rewrite("GET", ANNOTATIONS, lambda _: body)
    run.load()
    total = len(before_flood) + 10_000 + len(after_flood)
    (summary,) = [r for r in run.rejections("max_objects_per_frame") if r.label_id is None]
    assert (
        f": {total:,} objects on this frame, more than max_objects_per_frame=10,000: the {total - 10_000:,} after"
        in summary.attempted
    )


def test_max_objects_per_frame_is_checked_before_any_request(run):
    seen = len(run.proxy.seen)
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(ValueError, match="max_objects_per_frame must be a positive integer"):
            run.load(max_objects_per_frame=bad)
    assert len(run.proxy.seen) == seen

"""FiftyOne's CVAT guide, "Examples", each code example as written, with annoflow for FiftyOne.

The examples are the guide's text. What changes, and only that, before each runs
(``as_annoflow``): ``import fiftyone as fo`` becomes ``import annoflow as af`` (and ``fo.`` ``af.``),
``fiftyone.zoo`` / ``fiftyone.utils`` / ``ViewField`` their annoflow namesakes, ``launch_app`` lines
are left out; the zoo loader draws a small quickstart (12 images of 96x64, or 2 videos of 30
frames) unless ``max_samples`` asks for more; "Uploading alternate media" blurs with a Pillow
stand-in for OpenCV (not a dependency) into the test's folder instead of /tmp/blurred.

Between "send" and "load" nobody annotates (the guide's comments say an annotator would): each
example must run through annotate(), load_annotations() and the cleanup it asks for, leave the
runs it does not delete, and leave on the CVAT simulator exactly the tasks of runs not cleaned up.
"Importing existing tasks" uses a ``project_name`` the guide never defines and ``fo.Dataset()``
without a name (features/importing_existing_tasks.feature runs its workflow); the API examples are
features/additional_utilities.feature.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import types
import webbrowser

import httpx
import numpy as np
import pytest
from PIL import Image, ImageFilter

import annoflow.zoo
from annoflow.adapters.cvat_sim.server import CvatSimulator
from annoflow.adapters.cvat_sim.testing import PASSWORD, USER
from annoflow.adapters.quickstart import load_quickstart

EXAMPLES = [
    pytest.param(
        "Adding new label fields",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart")
view = dataset.take(1)

anno_key = "cvat_new_field"

view.annotate(
    anno_key,
    label_field="new_classifications",
    label_type="classifications",
    classes=["dog", "cat", "person"],
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Create annotations in CVAT

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="adding_new_label_fields_label_field",
    ),
    pytest.param(
        "Adding new label fields",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart")
view = dataset.take(1)

anno_key = "cvat_new_field"

label_schema = {
    "new_classifications": {
        "type": "classifications",
        "classes": ["dog", "cat", "person"],
    }
}

view.annotate(anno_key, label_schema=label_schema, launch_editor=True)
print(dataset.get_annotation_info(anno_key))

# Create annotations in CVAT

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="adding_new_label_fields_label_schema",
    ),
    pytest.param(
        "Editing existing labels",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart")
view = dataset.take(1)

anno_key = "cvat_existing_field"

view.annotate(anno_key, label_field="ground_truth", launch_editor=True)
print(dataset.get_annotation_info(anno_key))

# Modify/add/delete bounding boxes and their attributes in CVAT

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="editing_existing_labels_inferred",
    ),
    pytest.param(
        "Editing existing labels",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart")
view = dataset.take(1)

anno_key = "cvat_existing_field"

# The list of possible `label` values
classes = ["person", "dog", "cat", "helicopter"]

# Details for the existing `iscrowd` attribute are automatically inferred
# A new `attr2` attribute is also added
attributes = {
    "iscrowd": {},
    "attr2": {
        "type": "select",
        "values": ["val1", "val2"],
    }
}

view.annotate(
    anno_key,
    label_field="ground_truth",
    classes=classes,
    attributes=attributes,
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Modify/add/delete bounding boxes and their attributes in CVAT

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="editing_existing_labels_classes_and_attributes",
    ),
    pytest.param(
        "Restricting label edits",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz
from fiftyone import ViewField as F

dataset = foz.load_zoo_dataset("quickstart")

# Grab a sample that contains a person
view = (
    dataset
    .match_labels(filter=F("label") == "person", fields="ground_truth")
    .limit(1)
)

anno_key = "cvat_edit_restrictions"

# The new attributes that we want to populate
attributes = {
    "sex": {
        "type": "select",
        "values": ["male", "female"],
    },
    "age": {
        "type": "text",
    },
}

view.annotate(
    anno_key,
    label_field="ground_truth",
    classes=["person"],
    attributes=attributes,
    allow_additions=False,
    allow_deletions=False,
    allow_label_edits=False,
    allow_spatial_edits=False,
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Populate attributes in CVAT

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="restricting_label_edits_people",
    ),
    pytest.param(
        "Restricting label edits",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart-video")
view = dataset.take(1)

anno_key = "cvat_read_only_attrs"

# Upload existing `type` attribute as read-only and add new `make` attribute
attributes = {
    "type": {
        "type": "text",
        "read_only": True,
    },
    "make": {
        "type": "text",
        "mutable": False,
    },
}

view.annotate(
    anno_key,
    label_field="frames.detections",
    classes=["vehicle"],
    attributes=attributes,
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Populate make attributes in CVAT

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="restricting_label_edits_read_only_video",
    ),
    pytest.param(
        "Annotating multiple fields",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart")
view = dataset.take(1)

anno_key = "cvat_multiple_fields"

# The details for existing `ground_truth` field are inferred
# A new field `new_keypoints` is also added
label_schema = {
    "ground_truth": {},
    "new_keypoints": {
        "type": "keypoints",
        "classes": ["person", "cat", "dog", "food"],
        "attributes": {
            "is_truncated": {
                "type": "select",
                "values": [True, False],
            }
        }
    }
}

view.annotate(anno_key, label_schema=label_schema, launch_editor=True)
print(dataset.get_annotation_info(anno_key))

# Add annotations in CVAT...

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="annotating_multiple_fields",
    ),
    pytest.param(
        "Unexpected annotations",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart")
view = dataset.take(1)

anno_key = "cvat_unexpected"

view.annotate(anno_key, label_field="ground_truth", launch_editor=True)
print(dataset.get_annotation_info(anno_key))

# Add some polyline annotations in CVAT (wrong type!)

# You will be prompted for a field in which to store the polylines
dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="unexpected_annotations",
    ),
    pytest.param(
        "Creating projects",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart-video")
view = dataset.take(3)

anno_key = "cvat_create_project"

view.annotate(
    anno_key,
    label_field="frames.detections",
    project_name="fiftyone_project_example",
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Annotate videos in CVAT...

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="creating_projects",
    ),
    pytest.param(
        "Uploading to existing projects",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart").clone()
view = dataset.take(3)

project_name = "fiftyone_project_example"

#
# Upload existing `ground_truth` labels to a new CVAT project
# The label schema is automatically inferred from the existing labels
#

view.annotate(
    "create_project",
    label_field="ground_truth",
    project_name=project_name,
    launch_editor=True,
)

#
# Now upload the `predictions` labels to the same CVAT project
# Here the label schema of the existing CVAT project is automatically used
#

anno_key = "cvat_existing_project"
view.annotate(
    anno_key,
    label_field="predictions",
    project_name=project_name,
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Annotate in CVAT...

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)

#
# Now add a task with unspecified label fields to the same CVAT project
# In this case you will be prompted for field names at download time
#

anno_key = "cvat_new_fields"
view.annotate(
    anno_key,
    project_name=project_name,
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Annotate in CVAT...

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        ["create_project"],
        id="uploading_to_existing_projects",
    ),
    pytest.param(
        "Assigning users",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart")
view = dataset.take(5)

anno_key = "cvat_assign_users"

task_assignee = "username1"
job_assignees = ["username2", "username3"]

# If using a CVAT v1 server
# job_reviewers = ["username4", "username5", "username6", "username7"]

# Load "ground_truth" field into one task
# Create another task for "keypoints" field
label_schema = {
    "ground_truth": {},
    "keypoints": {
        "type": "keypoints",
        "classes": ["person"],
    }
}

view.annotate(
    anno_key,
    label_schema=label_schema,
    segment_size=2,
    task_assignee=task_assignee,
    job_assignees=job_assignees,
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Cleanup
results = dataset.load_annotation_results(anno_key)
results.cleanup()
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="assigning_users",
    ),
    pytest.param(
        "Large annotation runs",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart", max_samples=20).clone()

anno_key = "batch_upload"

results = dataset.annotate(
    anno_key,
    label_field="ground_truth",
    task_size=6,  # 6 images per task
    segment_size=2,  # 2 images per job
    project_name="batch_example",
    launch_editor=True,
)

# Annotate in CVAT...

dataset.load_annotations(anno_key, cleanup=True)
""",
        ["batch_upload"],
        id="large_annotation_runs",
    ),
    pytest.param(
        "Scalar labels",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart")
view = dataset.take(1)

anno_key = "cvat_scalar_fields"

# Create two scalar fields, one with classes and one without
label_schema = {
    "scalar1": {
        "type": "scalar",
    },
    "scalar2": {
        "type": "scalar",
        "classes": ["class1", "class2", "class3"],
    }
}

view.annotate(anno_key, label_schema=label_schema, launch_editor=True)
print(dataset.get_annotation_info(anno_key))

# Cleanup (without downloading results)
results = dataset.load_annotation_results(anno_key)
results.cleanup()
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="scalar_labels",
    ),
    pytest.param(
        "Uploading alternate media",
        r"""
import os
import cv2

import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart")
view = dataset.take(1)

alt_dir = "/tmp/blurred"
if not os.path.exists(alt_dir):
    os.makedirs(alt_dir)

# Blur images
for sample in view:
    filepath = sample.filepath
    alt_filepath = os.path.join(alt_dir, os.path.basename(filepath))

    img = cv2.imread(filepath)
    cv2.imwrite(alt_filepath, cv2.blur(img, (20, 20)))

    sample["alt_filepath"] = alt_filepath
    sample.save()

anno_key = "cvat_alt_media"

view.annotate(
    anno_key,
    label_field="ground_truth",
    media_field="alt_filepath",
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Create annotations in CVAT

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="uploading_alternate_media",
    ),
    pytest.param(
        "Using CVAT's occlusion widget",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart").clone()
view = dataset.take(1)

anno_key = "cvat_occluded_widget"

# Populate a new `occluded` attribute on the existing `ground_truth` labels
# using CVAT's occluded widget
label_schema = {
    "ground_truth": {
        "attributes": {
            "occluded": {
                "type": "occluded",
            }
        }
    }
}

view.annotate(anno_key, label_schema=label_schema, launch_editor=True)
print(dataset.get_annotation_info(anno_key))

# Mark occlusions in CVAT...

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="using_cvats_occlusion_widget_schema",
    ),
    pytest.param(
        "Using CVAT's occlusion widget",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart").clone()
view = dataset.take(1)

anno_key = "cvat_occluded_widget_project"
project_name = "example_occluded_widget"
label_field = "ground_truth"

# Create project
view.annotate("new_proj", label_field=label_field, project_name=project_name)

# Upload to existing project
view.annotate(
    anno_key,
    label_field=label_field,
    occluded_attr="is_occluded",
    project_name=project_name,
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Mark occlusions in CVAT...

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        ["new_proj"],
        id="using_cvats_occlusion_widget_project",
    ),
    pytest.param(
        "Using CVAT groups",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart").clone()
view = dataset.take(1)

anno_key = "cvat_group_id"

# Populate a new `group_id` attribute on the existing `ground_truth` labels
label_schema = {
    "ground_truth": {
        "attributes": {
            "group_id": {
                "type": "group_id",
            }
        }
    }
}

view.annotate(anno_key, label_schema=label_schema, launch_editor=True)
print(dataset.get_annotation_info(anno_key))

# Mark groups in CVAT...

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="using_cvat_groups_schema",
    ),
    pytest.param(
        "Using CVAT groups",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart").clone()
view = dataset.take(1)

anno_key = "cvat_group_id_project"
project_name = "example_group_id"
label_field = "ground_truth"

# Create project
view.annotate("new_proj", label_field=label_field, project_name=project_name)

# Upload to existing project
view.annotate(
    anno_key,
    label_field=label_field,
    group_id_attr="group_id_value",
    project_name=project_name,
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Mark groups in CVAT...

dataset.load_annotations(anno_key, cleanup=True)
dataset.delete_annotation_run(anno_key)
""",
        ["new_proj"],
        id="using_cvat_groups_project",
    ),
    pytest.param(
        "Changing destination field",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart").clone()
view = dataset.take(1)

anno_key = "dest_field"
label_field = "ground_truth"

# Upload from `ground_truth` field
view.annotate(
    anno_key,
    label_field=label_field,
)
print(dataset.get_annotation_info(anno_key))

# Load into `test_field`
dest_field = "test_field"

# If your run involves multiple fields, use this syntax instead
# dest_field = {"ground_truth": "test_field", ...}

dataset.load_annotations(
    anno_key,
    cleanup=True,
    dest_field=dest_field,
)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="changing_destination_field",
    ),
    pytest.param(
        "Using frame start, stop, step",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart-video", max_samples=2).clone()
sample_fps = dataset.values("filepath")

# Start video 1 at frame 10 and video 2 at frame 5
frame_start = {sample_fps[0]: 10, sample_fps[1]: 5}

# For video 1, load every frame after the start
# For video 2, load every 10th frame
frame_step = [1, 10]

# Stop all videos at frame 100
frame_stop = 100

anno_key = "frame_args"
label_field = "frames.new_detections"
label_type = "detections"
classes = ["person", "vehicle"]

# Annotate a new detections field
dataset.annotate(
    anno_key,
    label_field=label_field,
    label_type=label_type,
    classes=classes,
    frame_start=frame_start,
    frame_stop=frame_stop,
    frame_step=frame_step,
)
print(dataset.get_annotation_info(anno_key))

# Annotate in CVAT

dataset.load_annotations(
    anno_key,
    cleanup=True,
)
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="using_frame_start_stop_step",
    ),
    pytest.param(
        "Adding new frame labels",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart-video").clone()
dataset.delete_frame_field("detections")  # delete existing labels

view = dataset.limit(1)

anno_key = "video"

# Create annotation task
view.annotate(
    anno_key,
    label_field="frames.detections",
    label_type="detections",
    classes=["vehicle"],
    attributes={
        "type": {
            "type": "select",
            "values": ["sedan", "suv", "truck", "other"],
            "mutable": False,
        }
    },
    launch_editor=True,
)

# Add annotations in CVAT...

# Download annotations
dataset.load_annotations(anno_key)

# Load the view that was annotated in the App
view = dataset.load_annotation_view(anno_key)
session = fo.launch_app(view=view)

# Cleanup
results = dataset.load_annotation_results(anno_key)
results.cleanup()
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="adding_new_frame_labels",
    ),
    pytest.param(
        "Editing frame-level label tracks",
        r"""
import fiftyone as fo
import fiftyone.zoo as foz

dataset = foz.load_zoo_dataset("quickstart-video").clone()

view = dataset.take(1)

# Mark some keyframes
sample = view.first()
num_frames = len(sample.frames)
keyframes = set(range(1, num_frames, 10)).union({1, num_frames})
for frame_number in keyframes:
    frame = sample.frames[frame_number]
    for det in frame.detections.detections:
        det.keyframe = True

sample.save()

anno_key = "cvat_video"

# Send frame-level detections to CVAT
view.annotate(
    anno_key,
    label_field="frames.detections",
    launch_editor=True,
)
print(dataset.get_annotation_info(anno_key))

# Edit annotations in CVAT...

# Merge edits back in
dataset.load_annotations(anno_key)

# Load the view that was annotated in the App
view = dataset.load_annotation_view(anno_key)
session = fo.launch_app(view=view)

# Cleanup
results = dataset.load_annotation_results(anno_key)
results.cleanup()
dataset.delete_annotation_run(anno_key)
""",
        [],
        id="editing_frame_level_label_tracks",
    ),
]

_IMPORTS = [
    ("import fiftyone as fo\n", "import annoflow as af\n"),
    ("import fiftyone.zoo as foz", "import annoflow.zoo as foz"),
    ("import fiftyone.utils.cvat as fouc", "import annoflow.utils.cvat as fouc"),
    ("import fiftyone.utils.annotations as foua", "import annoflow.utils.annotations as foua"),
    ("from fiftyone import ViewField as F", "from annoflow import ViewField as F"),
]


def as_annoflow(code: str, alt_dir: str) -> str:
    """The guide's code with annoflow in place of FiftyOne (see the module docstring)."""
    for old, new in _IMPORTS:
        code = code.replace(old, new)
    code = re.sub(r"\bfo\.", "af.", code)
    code = "\n".join(line for line in code.splitlines() if "launch_app" not in line)
    assert "fiftyone" not in code.replace("fiftyone_project_example", "")
    return code.replace('"/tmp/blurred"', repr(alt_dir))


def _small_zoo(data_dir):
    def load_zoo_dataset(name, max_samples=None, *, dataset_name=None):
        dataset = annoflow.zoo.wiring.open_dataset(dataset_name or name)
        if not len(dataset.store):
            video = annoflow.zoo.ZOO[name]
            media = data_dir / "media" / (dataset_name or name)
            if video:
                load_quickstart(dataset.store, media, video=True, num_samples=max_samples or 2, size=(64, 48))
            else:
                load_quickstart(dataset.store, media, num_samples=max_samples or 12, image_size=(96, 64))
        return dataset

    return load_zoo_dataset


def _cv2_stand_in() -> types.ModuleType:
    """imread, blur and imwrite, as the alternate media example calls them, through Pillow."""
    module = types.ModuleType("cv2")
    module.imread = lambda path: np.asarray(Image.open(path).convert("RGB"))
    module.blur = lambda image, size: np.asarray(Image.fromarray(image).filter(ImageFilter.BoxBlur(size[0] // 2)))
    module.imwrite = lambda path, image: Image.fromarray(image).save(path) or True
    return module


@pytest.fixture
def sim(cvat_schema):
    """The simulator with the users the examples assign (as cvat_sim, which has two users)."""
    cvat_schema.take_problems()
    users = {USER: PASSWORD, **{f"username{n}": "pw" for n in (1, 2, 3)}}
    simulator = CvatSimulator(users=users, on_exchange=cvat_schema.check)
    with simulator.serve():
        yield simulator
    simulator.close()
    problems = cvat_schema.take_problems()
    if problems:
        pytest.fail("traffic that CVAT's schema does not allow:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def guide(tmp_path, monkeypatch, sim):
    cvat_sim = sim
    monkeypatch.setenv("ANNOFLOW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FIFTYONE_CVAT_URL", cvat_sim.url)
    monkeypatch.setenv("FIFTYONE_CVAT_USERNAME", USER)
    monkeypatch.setenv("FIFTYONE_CVAT_PASSWORD", PASSWORD)
    for name in ("PERSISTENCE_MODULE", "SQLITE_DBNAME", "POSTGRES_DBNAME", "ANNOFLOW_LABEL_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(annoflow.zoo, "load_zoo_dataset", _small_zoo(tmp_path / "data"))
    monkeypatch.setitem(sys.modules, "cv2", _cv2_stand_in())
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    return tmp_path, cvat_sim, opened


def _server_tasks(sim) -> set[int]:
    with httpx.Client(base_url=sim.url, auth=(USER, PASSWORD)) as client:
        return {task["id"] for task in client.get("/api/tasks", params={"page_size": 100}).json()["results"]}


@pytest.mark.parametrize("section, code, runs_left", EXAMPLES)
def test_the_guides_example_runs_as_written(guide, section, code, runs_left):
    tmp_path, sim, opened = guide
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(as_annoflow(code, str(tmp_path / "blurred")), f"<{section}>", "exec"), namespace)
    dataset = namespace["dataset"]
    assert dataset.list_annotation_runs() == sorted(runs_left)
    kept = {
        task
        for key in runs_left
        for task in dataset.load_annotation_results(key).task_ids
        if dataset.get_annotation_info(key).status != "cleaned_up"
    }
    assert _server_tasks(sim) == kept  # the cleanups asked for took every task they made, and no other
    if "launch_editor=True" in code:
        assert opened and all(url.startswith(sim.url) for url in opened)
    if "print(dataset.get_annotation_info(anno_key))" in code:
        assert "AnnotationInfo(" in printed.getvalue()

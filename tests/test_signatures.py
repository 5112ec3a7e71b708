"""The methods users call spell out their parameters: typed, with defaults, documented Google-style;
every public callable of the face says how to call it, and its value objects what each attribute holds."""

import inspect
import re

import attrs
import pytest

import annoflow as af
from annoflow.application.views import SampleCollection

# FiftyOne's CVAT guide, "Requesting annotations": the parameters of annotate().
FIFTYONE_ANNOTATE = [
    "anno_key",
    "backend",
    "media_field",
    "launch_editor",
    "label_schema",
    "label_field",
    "label_type",
    "classes",
    "attributes",
    "mask_targets",
    "allow_additions",
    "allow_deletions",
    "allow_label_edits",
    "allow_index_edits",
    "allow_spatial_edits",
    "task_size",
    "segment_size",
    "image_quality",
    "use_cache",
    "use_zip_chunks",
    "chunk_size",
    "task_assignee",
    "job_assignees",
    "job_reviewers",
    "project_name",
    "project_id",
    "task_name",
    "occluded_attr",
    "group_id_attr",
    "issue_tracker",
    "organization",
    "frame_start",
    "frame_stop",
    "frame_step",
]

DOCUMENTED = [
    SampleCollection.annotate,
    af.Dataset.load_annotations,
    af.Dataset.load_annotation_results,
    af.Dataset.list_annotation_runs,
    af.Dataset.has_annotation_run,
    af.Dataset.get_annotation_info,
    af.Dataset.rename_annotation_run,
    af.Dataset.delete_annotation_run,
    af.Dataset.load_annotation_view,
    af.AnnotationResults.get_status,
    af.AnnotationResults.print_status,
    af.AnnotationResults.cleanup,
    af.AnnotationResults.connect_to_api,
    af.AnnotationResults.use_api,
    af.connect_to_api,
    af.open_dataset,
    af.list_datasets,
    af.Dataset.import_annotations,
    af.import_annotations,
    af.CVATAnnotationAPI.download_media,
    af.CVATAnnotationAPI.get_label_id,
    af.CVATAnnotationAPI.get_attr_id_map,
    af.CVATAnnotationAPI.upload_annotations,
    SampleCollection.tag_labels,
    SampleCollection.untag_labels,
    SampleCollection.count_label_tags,
    SampleCollection.load_annotations,
    SampleCollection.select,
    SampleCollection.limit,
    SampleCollection.skip,
    SampleCollection.take,
    SampleCollection.match,
    SampleCollection.filter_labels,
    SampleCollection.match_labels,
    SampleCollection.select_fields,
    SampleCollection.exclude_fields,
    SampleCollection.exists,
    SampleCollection.sort_by,
    SampleCollection.export,
    SampleCollection.iter_samples,
    SampleCollection.first,
    SampleCollection.set_values,
    SampleCollection.values,
    SampleCollection.clone,
]


def _args_section(doc: str) -> set[str]:
    section = doc.split("Args:", 1)[1] if "Args:" in doc else ""
    section = re.split(r"\n\s*(Returns|Raises):", section)[0]
    return set(re.findall(r"^\s{4,}(\*{0,2}\w+):", section, flags=re.M))


@pytest.mark.parametrize("function", DOCUMENTED, ids=lambda f: f.__qualname__)
def test_every_parameter_is_typed_and_documented(function):
    signature = inspect.signature(function)
    doc = inspect.getdoc(function) or ""
    documented = _args_section(doc)
    for name, parameter in signature.parameters.items():
        if name == "self":
            continue
        assert parameter.annotation is not inspect.Parameter.empty, name
        shown = {parameter.VAR_KEYWORD: f"**{name}", parameter.VAR_POSITIONAL: f"*{name}"}.get(parameter.kind, name)
        assert shown in documented, f"{function.__qualname__}: {shown} is not in Args:"
    assert signature.return_annotation not in (inspect.Parameter.empty, "Any")
    if signature.return_annotation != "None":
        assert "Returns:" in doc, function.__qualname__


def test_annotate_names_every_parameter_of_fiftyones_guide():
    parameters = inspect.signature(SampleCollection.annotate).parameters
    assert [p for p in FIFTYONE_ANNOTATE if p not in parameters] == []
    # FiftyOne's positional order, so calls written for FiftyOne bind the same way
    positional = [n for n, p in parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD][1:]
    assert positional == [
        "anno_key",
        "backend",
        "label_schema",
        "label_field",
        "label_type",
        "classes",
        "attributes",
        "mask_targets",
        "allow_additions",
        "allow_deletions",
        "allow_label_edits",
        "allow_index_edits",
        "allow_spatial_edits",
        "media_field",
        "launch_editor",
    ]


def test_a_view_loads_with_the_datasets_parameters():
    view = inspect.signature(SampleCollection.load_annotations)
    assert view == inspect.signature(af.Dataset.load_annotations)


# Every public class of the face whose methods users call, and the face's functions: each says how to call it.
FACE_CLASSES = [
    af.Dataset,
    af.DatasetView,
    af.AnnotationResults,
    af.CVATAnnotationAPI,
    af.AnnotationInfo,
    af.DetectionResults,
    af.ViewExpression,
]
FACE_CALLABLES = [
    *(
        member
        for cls in FACE_CLASSES
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member) and not inspect.isclass(member)
    ),
    *(value for name in af.__all__ if inspect.isfunction(value := getattr(af, name))),
]


@pytest.mark.parametrize("function", FACE_CALLABLES, ids=lambda f: f.__qualname__)
def test_every_public_callable_says_how_to_call_it(function):
    doc = inspect.getdoc(function) or ""
    assert doc.strip(), f"{function.__qualname__} has no docstring"
    signature = inspect.signature(function)
    documented = _args_section(doc)
    for name, parameter in signature.parameters.items():
        if name in ("self", "cls"):
            continue
        shown = {parameter.VAR_KEYWORD: f"**{name}", parameter.VAR_POSITIONAL: f"*{name}"}.get(parameter.kind, name)
        assert shown in documented, f"{function.__qualname__}: {shown} is not in Args:"
    if signature.return_annotation not in ("None", None, inspect.Parameter.empty):
        assert "Returns:" in doc, function.__qualname__


@pytest.mark.parametrize("cls", [af.TaskStatus, af.XmlImportSummary, af.AnnotationInfo], ids=lambda c: c.__name__)
def test_the_face_value_objects_say_what_each_attribute_holds(cls):
    doc = inspect.getdoc(cls) or ""
    section = doc.split("Attributes:", 1)[1] if "Attributes:" in doc else ""
    described = set(re.findall(r"^\s{4}(\w+):", section, flags=re.M))
    assert [a.name for a in attrs.fields(cls) if a.name not in described] == []

"""Pascal VOC XML in: objects as detections with their flags as attributes, images without XML as
unlabelled samples, hostile XML refused by defusedxml, every problem named by file and object."""

from __future__ import annotations

import pytest

from annoflow.adapters.formats.errors import DataImportError
from annoflow.adapters.formats.voc import read_voc
from tests.formats.conftest import write_image

XML = """<annotation>
  <folder>VOC2012</folder><filename>{name}</filename>
  <size><width>40</width><height>30</height><depth>3</depth></size>
  {objects}
</annotation>"""
OBJECT = """<object><name>{label}</name><pose>Left</pose><truncated>0</truncated><difficult>1</difficult>
  <bndbox><xmin>{box[0]}</xmin><ymin>{box[1]}</ymin><xmax>{box[2]}</xmax><ymax>{box[3]}</ymax></bndbox></object>"""


def _voc(root, objects, name="a.jpg", extra=()):
    write_image(root / "JPEGImages" / "a.jpg", (40, 30))
    for other in extra:
        write_image(root / "JPEGImages" / other, (20, 10))
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    body = "".join(OBJECT.format(label=label, box=box) for label, box in objects)
    (root / "Annotations" / "a.xml").write_text(XML.format(name=name, objects=body))
    return root


def test_objects_become_detections_with_their_flags(tmp_path):
    root = _voc(tmp_path / "voc", [("person", (4, 3, 24, 18)), ("dog", (0, 0, 40, 30))], extra=["b.png"])
    labelled, unlabelled = read_voc(root / "Annotations", root / "JPEGImages")
    person, dog = labelled.fields["ground_truth"].detections
    assert (person.label, person.bounding_box) == ("person", (0.1, 0.1, 0.5, 0.5))
    assert dict(person.attributes) == {"pose": "Left", "truncated": 0, "difficult": 1}
    assert dog.bounding_box == (0.0, 0.0, 1.0, 1.0)
    assert unlabelled.filepath.endswith("b.png") and "ground_truth" not in unlabelled.fields
    assert (unlabelled.metadata.width, unlabelled.metadata.height) == (20, 10)


def test_every_bad_object_is_named(tmp_path):
    root = _voc(
        tmp_path / "voc",
        [("person", (4, 3, 24, 18)), ("", (0, 0, 1, 1)), ("cat", (10, 0, 5, 5)), ("cat", (0, 0, 80, 5))],
    )
    with pytest.raises(DataImportError) as caught:
        read_voc(root / "Annotations", root / "JPEGImages")
    xml = root / "Annotations" / "a.xml"
    assert caught.value.problems == (
        f"{xml}: <object> 2: no <name>",
        f"{xml}: <object> 3: <bndbox> (10.0, 0.0, 5.0, 5.0) has its max before its min",
        f"{xml}: <object> 4: <bndbox> (0.0, 0.0, 80.0, 5.0) lies outside the 40x30 image",
    )


def test_a_filename_outside_the_folder_or_a_wrong_size_is_refused(tmp_path):
    root = _voc(tmp_path / "voc", [], name="../../secret.jpg")
    with pytest.raises(DataImportError, match=r"a.xml: <filename> '../../secret.jpg' is not a file inside"):
        read_voc(root / "Annotations", root / "JPEGImages")
    root = _voc(tmp_path / "voc2", [])
    write_image(root / "JPEGImages" / "a.jpg", (41, 30))
    with pytest.raises(DataImportError, match=r"<size> 40x30 but .*a.jpg is 41x30"):
        read_voc(root / "Annotations", root / "JPEGImages")


def test_entity_expansion_is_refused(tmp_path):
    root = _voc(tmp_path / "voc", [])
    (root / "Annotations" / "a.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]>'
        "<annotation><filename>a.jpg</filename><object><name>&y;</name></object></annotation>"
    )
    with pytest.raises(DataImportError, match=r"a.xml: not VOC XML \(EntitiesForbidden"):
        read_voc(root / "Annotations", root / "JPEGImages")

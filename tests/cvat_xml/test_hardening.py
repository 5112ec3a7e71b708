"""A CVAT XML file from anywhere: entity bombs, external entities, DTDs and huge files are refused with
a clear error, and memory follows one image, not the file."""

from __future__ import annotations

import os
import re
import threading
import tracemalloc
from pathlib import Path

import pytest

from annoflow.adapters.cvat_xml.importing import import_cvat_xml
from annoflow.adapters.cvat_xml.reader import CvatXmlError, XmlImage, XmlMeta, read_cvat_xml

META = """<meta><task><id>1</id><name>t</name><size>{size}</size><mode>annotation</mode><labels>
<label><name>car</name><type>any</type><attributes/></label></labels></task></meta>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<annotations><version>1.1</version>
<image id="0" name="&lol9;" width="10" height="10"/></annotations>
"""


def _read_all(path: Path, **kwargs) -> list:
    return list(read_cvat_xml(path, **kwargs))


def test_billion_laughs_is_refused_without_expanding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(BILLION_LAUGHS)
    tracemalloc.start()
    try:
        with pytest.raises(CvatXmlError, match=r"bomb\.xml: refused: .*billion laughs"):
            _read_all(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20  # expanded, lol9 alone is a billion characters


def test_an_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    file = tmp_path / "xxe.xml"
    file.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>
<annotations><version>1.1</version><image id="0" name="&x;" width="1" height="1"/></annotations>""")
    with pytest.raises(CvatXmlError, match=re.escape("xxe.xml: refused")) as refused:
        _read_all(file)
    assert "TOP-SECRET" not in str(refused.value)


def test_an_external_dtd_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "dtd.xml"
    file.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE annotations SYSTEM "http://127.0.0.1:9/x.dtd">\n'
        "<annotations><version>1.1</version></annotations>"
    )
    with pytest.raises(CvatXmlError, match="DTD"):
        _read_all(file)


def test_a_2_gb_file_is_refused_before_reading(tmp_path: Path, open_ds) -> None:
    huge = tmp_path / "huge.xml"
    with open(huge, "wb") as file:
        file.write(b"<annotations>")
        file.truncate(2 << 30)  # sparse: no disk used
    with pytest.raises(CvatXmlError, match=r"huge.xml: 2,147,483,648 bytes, more than 1,073,741,824: refused"):
        _read_all(huge)
    dataset = open_ds("target")
    with pytest.raises(CvatXmlError):
        import_cvat_xml(dataset, huge, tmp_path)
    assert len(dataset.store) == 0 and dataset.store.field_schema() == {}


def test_a_stream_growing_past_the_limit_is_refused_as_it_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)  # its size cannot be known before reading

    def endless() -> None:
        try:
            with open(fifo, "w") as pipe:
                pipe.write("<annotations><version>1.1</version>" + META.format(size=1))
                while True:
                    pipe.write('<image id="0" name="a.jpg" width="1" height="1"/>' * 1000)
        except (BrokenPipeError, OSError):
            return

    writer = threading.Thread(target=endless, daemon=True)
    writer.start()
    with pytest.raises(CvatXmlError, match="more than 1,000,000 bytes: refused"):
        _read_all(fifo, max_bytes=1_000_000)
    writer.join(timeout=10)


def test_memory_follows_one_image_not_the_file(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    box = '<box label="car" source="manual" occluded="0" xtl="1.00" ytl="2.00" xbr="30.00" ybr="40.00" z_order="0"/>'
    with open(big, "w") as file:
        file.write("<annotations><version>1.1</version>" + META.format(size=4000))
        for n in range(4000):
            file.write(f'<image id="{n}" name="{n}.jpg" width="640" height="480">' + box * 20 + "</image>")
        file.write("</annotations>")
    assert big.stat().st_size > 8_000_000
    tracemalloc.start()
    try:
        count = sum(1 for item in read_cvat_xml(big) if isinstance(item, XmlImage))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 4000
    assert peak < 2 << 20  # a whole tree of 80,000 boxes is tens of MB


def test_an_image_with_too_many_objects_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "many.xml"
    file.write_text(
        "<annotations>"
        + META.format(size=1)
        + '<image id="0" name="a.jpg" width="9" height="9">'
        + '<tag label="car"/>' * 11
        + "</image></annotations>"
    )
    assert len(_read_all(file, max_objects=11)) == 2
    with pytest.raises(CvatXmlError, match="more than 10 objects"):
        _read_all(file, max_objects=10)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("<annotations><image id='0'", "not well-formed XML"),
        ("<html><body/></html>", "not a CVAT XML file"),
        ("<annotations><image id='x' name='a' width='1' height='1'/></annotations>", "image 'a': id is not an integer"),
        (
            "<annotations><image id='0' name='a' width='1' height='1'><box label='c' xtl='1'/></image></annotations>",
            "ytl is missing",
        ),
        (
            "<annotations><image id='0' name='a' width='1' height='1'><polygon label='c' points='1,2;3'/></image></annotations>",
            "points is not 'x,y;x,y;...'",
        ),
    ],
)
def test_a_malformed_file_names_its_problem(tmp_path: Path, text: str, problem: str) -> None:
    file = tmp_path / "bad.xml"
    file.write_text(text)
    with pytest.raises(CvatXmlError, match=problem.replace("(", r"\(").replace(".", r"\.")) as refused:
        _read_all(file)
    assert "bad.xml" in str(refused.value)


def test_the_meta_comes_first(tmp_path: Path) -> None:
    file = tmp_path / "a.xml"
    file.write_text(
        "<annotations><version>1.1</version>"
        + META.format(size=1)
        + '<image id="0" name="a.jpg" width="9" height="8"><tag label="car"/></image></annotations>'
    )
    meta, image = _read_all(file)
    assert isinstance(meta, XmlMeta) and meta.labels[0]["name"] == "car" and meta.mode == "annotation"
    assert (image.name, image.width, image.height, image.tags[0]["label"]) == ("a.jpg", 9, 8, "car")


def test_a_file_broken_past_its_first_batch_writes_nothing(tmp_path: Path, open_ds) -> None:
    (tmp_path / "media").mkdir()
    good = (
        '<image id="{n}" name="{n}.jpg" width="9" height="9"><box label="car" xtl="1" ytl="1" xbr="2" ybr="2"/></image>'
    )
    images = "".join(good.format(n=n) for n in range(600))  # more than a batch of 256
    for n in range(601):
        (tmp_path / "media" / f"{n}.jpg").write_bytes(b"x")
    broken = '<image id="600" name="600.jpg" width="9" height="9"><box label="car" xtl="1" ytl="oops" xbr="2" ybr="2"/></image>'
    file = tmp_path / "broken.xml"
    file.write_text("<annotations>" + META.format(size=601) + images + broken + "</annotations>")
    dataset = open_ds("target")
    with pytest.raises(CvatXmlError, match=re.escape("image '600.jpg': <box>: ytl is not a number: 'oops'")):
        import_cvat_xml(dataset, file, tmp_path / "media")
    assert len(dataset.store) == 0 and dataset.store.field_schema() == {}


def test_a_long_tracks_interpolated_frames_are_dropped_as_they_are_read(tmp_path: Path) -> None:
    """CVAT's video export writes every frame a track covers; only its keyframes count and are kept."""
    shape = '<box frame="{f}" keyframe="{k}" outside="0" occluded="0" xtl="1" ytl="1" xbr="2" ybr="2" z_order="0"/>'
    file = tmp_path / "long.xml"
    with open(file, "w") as out:
        out.write('<annotations><meta><task><mode>interpolation</mode></task></meta><track id="0" label="car">')
        for frame in range(30_000):
            out.write(shape.format(f=frame, k=int(frame in (0, 29_999))))
        out.write("</track></annotations>")
    tracemalloc.start()
    try:
        meta, track = _read_all(file, max_objects=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert meta.mode == "interpolation" and [s["frame"] for s in track.shapes] == [0, 29_999]
    assert peak < 2 << 20  # 30,000 elements held would be tens of MB
    with pytest.raises(CvatXmlError, match="a <track> holds more than 1 keyframes"):
        _read_all(file, max_objects=1)

"""Names a server gives its frames become plain names inside the download folder, whatever they hold."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annoflow.adapters.cvat.media_names import MAX_NAME_BYTES, UnsafeMediaPathError, inside, safe_name, unique_names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("000001_cat.jpg", "000001_cat.jpg"),
        ("../../etc/passwd", "passwd"),
        ("/etc/shadow", "shadow"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("C:\\evil.jpg", "evil.jpg"),
        ("C:evil.jpg", "evil.jpg"),
        ("..", "frame"),
        ("", "frame"),
        ("a\x00b.png", "a_b.png"),
        ("CON.jpg", "_CON.jpg"),
        ("dir/sub/", "frame"),
        ("name. ", "name"),
    ],
)
def test_a_server_name_becomes_one_plain_name(name, expected):
    assert safe_name(name) == expected


def test_an_over_long_name_is_cut_keeping_its_extension():
    name = safe_name("é" * 400 + ".jpeg")
    assert len(name.encode()) <= MAX_NAME_BYTES and name.endswith(".jpeg")


def test_names_that_end_up_equal_are_told_apart_without_case():
    assert unique_names(["a/x.jpg", "b/x.jpg", "X.JPG", "x_1.jpg"]) == ["x.jpg", "x_1.jpg", "X_2.JPG", "x_1_1.jpg"]


@given(st.lists(st.text(max_size=300), max_size=8))
def test_any_names_stay_in_the_folder_and_differ(names):
    result = unique_names(names)
    assert len({n.casefold() for n in result}) == len(result)
    for name in result:
        assert name not in ("", ".", "..") and "/" not in name and "\\" not in name and "\x00" not in name
        assert len(name.encode()) <= MAX_NAME_BYTES
        assert os.path.basename(name) == name


def test_a_symlink_in_the_folder_is_never_written_through(tmp_path):
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"keep")
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "frame.jpg").symlink_to(outside)
    with pytest.raises(UnsafeMediaPathError, match="symbolic link"):
        inside(folder, "frame.jpg")
    assert inside(folder, "other.jpg") == folder.resolve() / "other.jpg"
    assert outside.read_bytes() == b"keep"


def test_a_frame_is_written_whole_and_never_over_another_file(tmp_path):
    from types import SimpleNamespace

    from annoflow.adapters.cvat.api import CVATAnnotationAPI

    client = SimpleNamespace(request=lambda *args, **kwargs: SimpleNamespace(content=b"frame"))
    (tmp_path / "x.jpg.part").write_bytes(b"another frame's file")
    CVATAnnotationAPI(client).download_frame(1, 0, tmp_path / "x.jpg")
    assert (tmp_path / "x.jpg").read_bytes() == b"frame"
    assert (tmp_path / "x.jpg.part").read_bytes() == b"another frame's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.jpg", "x.jpg.part"]  # no temporary file left

"""The shortcuts of keep_unmoved (property tests): `uploads_as` works a box's rectangle out without
sending it, and must answer as the objects `Uploader.objects` sends would, whatever the class, mask
and field type; `with_geometry_of` rebuilds a label without a mask from its values, and must give
what `replace` gives."""

from __future__ import annotations

import re

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annoflow.adapters.cvat_format.download import Imported, _as_list, uploads_as, with_geometry_of
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.domain.label_schema import build_label_schema
from tests import strategies as strat
from tests.cvat_format.test_round_trip import CLASSES, _server

classes = st.sampled_from([*CLASSES[:3], "not in the schema"])
boxes = st.builds(lambda d, c: d.replace(label=c), strat.detections, classes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    boxes,
    st.sampled_from(["detections", "instances"]),
    st.integers(1, 3000),
    st.integers(1, 3000),
    st.booleans(),
    st.floats(-1, 1, allow_nan=False),
)
def test_a_box_uploads_as_its_objects_say(box, label_type, width, height, moved, by):
    schema = build_label_schema(label_schema={"gt": {"type": label_type, "classes": CLASSES[:3]}}, field_schema={})
    uploader = Uploader(schema["gt"], _server(schema))
    sent = tuple(
        tuple(o.body["points"]) for o in uploader.objects(_as_list(box), 0, width, height) if "points" in o.body
    )
    returned = tuple(tuple(p + by for p in points) for points in sent) if moved else sent
    imported = Imported("gt", 0, box, box.id, "shape", (1,), returned)
    assert uploads_as(box, imported, uploader, width, height) == (returned == sent)


def _fields(label):
    return {
        name: (type(value), value if not hasattr(value, "tobytes") else value.tobytes())
        for name, value in ((a.name, getattr(label, a.name)) for a in attrs.fields(type(label)))
    }


same_kind_pairs = st.one_of(
    *[
        st.tuples(element, element)
        for element in (strat.detections, strat.polylines, strat.keypoints(), strat.classifications)
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(same_kind_pairs)
def test_the_original_geometry_is_given_as_replace_gives_it(pair):
    original, downloaded = pair
    geometry = {name: getattr(original, name) for name in ("bounding_box", "mask", "points") if hasattr(original, name)}
    try:
        expected = downloaded.replace(**geometry)
    except ValueError as error:  # a keypoint's confidence for another number of points: refused alike
        with pytest.raises(ValueError, match=re.escape(str(error))):
            with_geometry_of(original, downloaded)
        return
    got = with_geometry_of(original, downloaded)
    assert type(got) is type(expected) and repr(_fields(got)) == repr(_fields(expected))  # NaN: by its repr

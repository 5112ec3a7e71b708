"""`uploads_as` works a box's rectangle out without sending it: it must answer as the objects
`Uploader.objects` sends would (property test), whatever the class, mask and field type."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annoflow.adapters.cvat_format.download import Imported, _as_list, uploads_as
from annoflow.adapters.cvat_format.upload import Uploader
from annoflow.domain.label_schema import build_label_schema
from tests import strategies as strat
from tests.cvat_format.test_round_trip import CLASSES, _server

classes = st.sampled_from([*CLASSES[:3], "not in the schema"])
boxes = st.builds(lambda d, c: d.replace(label=c), strat.detections, classes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(boxes, st.sampled_from(["detections", "instances"]), st.integers(1, 3000), st.integers(1, 3000),
       st.booleans(), st.floats(-1, 1, allow_nan=False))
def test_a_box_uploads_as_its_objects_say(box, label_type, width, height, moved, by):
    schema = build_label_schema(label_schema={"gt": {"type": label_type, "classes": CLASSES[:3]}}, field_schema={})
    uploader = Uploader(schema["gt"], _server(schema))
    sent = tuple(tuple(o.body["points"]) for o in uploader.objects(_as_list(box), 0, width, height) if "points" in o.body)
    returned = tuple(tuple(p + by for p in points) for points in sent) if moved else sent
    imported = Imported("gt", 0, box, box.id, "shape", (1,), returned)
    assert uploads_as(box, imported, uploader, width, height) == (returned == sent)

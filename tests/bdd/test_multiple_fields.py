"""Step code for features/multiple_fields.feature: FiftyOne's CVAT guide, "Annotating multiple fields" example."""

from __future__ import annotations

import json

from pytest_bdd import parsers, scenarios, then

from tests.bdd.cvat_steps import HEIGHT, WIDTH, now

scenarios("multiple_fields.feature")


@then(
    parsers.re(
        r'the sample\'s "(?P<field>[^"]+)" field holds "(?P<cls>[^"]+)" at (?P<points>\[[^\]]*\]) '
        r'with "(?P<name>[^"]+)" (?P<flag>true|false)'
    )
)
def holds_keypoint(world, field, cls, points, name, flag):
    pixels = json.loads(points)
    expected = tuple((x / WIDTH, y / HEIGHT) for x, y in zip(pixels[0::2], pixels[1::2], strict=True))
    found = [k for k in now(world, field).values() if k.label == cls]
    assert len(found) == 1, found
    assert tuple(found[0].points) == expected
    assert found[0].attributes[name] is (flag == "true")

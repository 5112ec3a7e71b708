"""A value's bit-exact form, for asserting round trips.

Label equality is forgiving where a round trip must not be: 0.0 == -0.0,
1 == 1.0 == True, a NaN attribute equals no NaN read back, and masks of equal
values but different byte orders are equal. This form tells all of those apart.
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Mapping

import attrs
import numpy as np


def exact(value):
    if value is None or isinstance(value, (bool, int, str)):
        return (type(value).__name__, value)
    if isinstance(value, float):
        # NaN is NaN: JSON writes every NaN alike, so its sign bit and payload are not kept.
        return ("float", "nan" if math.isnan(value) else struct.pack("<d", value))
    if isinstance(value, enum.Enum):
        return (type(value).__name__, value.value)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(exact(v) for v in value))
    if isinstance(value, Mapping):
        # Mappings compare without order, as the domain's do; their keys' types still count.
        return ("mapping", tuple(sorted(((repr(k), exact(v)) for k, v in value.items()))))
    if attrs.has(type(value)):
        return (type(value).__name__, tuple((f.name, exact(getattr(value, f.name))) for f in attrs.fields(type(value))))
    raise TypeError(f"no exact form for {type(value).__name__}")

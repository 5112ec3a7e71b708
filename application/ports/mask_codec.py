"""Masks as compact bytes, bit-exact: dtype and shape kept, booleans bit-packed, all compressed.

Both the run events and the label stores' rows (`LabelRow.mask`) carry masks this way, so a
mask never travels as a list of pixels. A persistence format, not the domain's: labels hold arrays.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

_HEADER = struct.Struct("<B8sB")  # format version, dtype string, number of dimensions
_VERSION = 1


def encode_mask(array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array)
    dtype = array.dtype.str.encode("ascii")
    if len(dtype) > 8:
        raise ValueError(f"mask dtype {array.dtype} cannot be encoded")
    raw = np.packbits(array, axis=None).tobytes() if array.dtype == np.bool_ else array.tobytes()
    header = _HEADER.pack(_VERSION, dtype, array.ndim) + struct.pack(f"<{array.ndim}Q", *array.shape)
    return header + zlib.compress(raw, 1)


def decode_mask(data: bytes) -> np.ndarray:
    version, dtype_raw, ndim = _HEADER.unpack_from(data)
    if version != _VERSION:
        raise ValueError(f"unknown mask encoding version {version}")
    shape = struct.unpack_from(f"<{ndim}Q", data, _HEADER.size)
    raw = zlib.decompress(data[_HEADER.size + 8 * ndim :])
    dtype = np.dtype(dtype_raw.rstrip(b"\0").decode("ascii"))
    if dtype == np.bool_:
        count = int(np.prod(shape))
        array = np.unpackbits(np.frombuffer(raw, np.uint8), count=count).astype(np.bool_)
    else:
        array = np.frombuffer(raw, dtype=dtype).copy()
    return array.reshape(shape)

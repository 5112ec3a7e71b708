"""A dataset copied from one label store to another, with its sample and label ids.

The runs' events name samples and labels by id, so a copy that keeps them is the same
dataset to every run: a run started on one store loads into the copy. The dataset's info and
its fields are declared first (a declared field without values is copied too), then the samples go over a batch
at a time, each batch one transaction of the target: memory follows a batch.

A copy interrupted part way leaves the target holding the first samples of the source,
in order; copying again goes on after them. A target holding anything else is refused
before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from annoflow.application.ports.label_store import DuplicateSampleError, LabelStore

logger = logging.getLogger(__name__)
BATCH = 200  # samples per transaction of the target


def copy_dataset(
    source: LabelStore, target: LabelStore, *, batch: int = BATCH, progress: Callable[[int], None] | None = None
) -> int:
    """Copy every sample of ``source`` into ``target``, keeping ids; returns how many samples were copied.

    Raises DuplicateSampleError, writing nothing, when the target holds samples that are not
    the source's first ones (an interrupted copy of this very dataset is taken up again).
    """
    ids = source.sample_ids()
    held = target.sample_ids()
    if held != ids[: len(held)]:
        raise DuplicateSampleError(
            f"the target already holds {len(held)} samples of dataset {target.name!r} that are not an interrupted "
            f"copy of {source.name!r}: copy into an empty dataset"
        )
    info = source.read_info()
    if info:
        target.write_info(info)
    schema = source.field_schema()
    for path, kind in schema.items():
        target.declare_field(path, kind)  # refuses, before any sample, a field the target holds as another kind
    if held:
        logger.info("dataset %r: %d samples already copied, going on after them", source.name, len(held))
    copied = 0
    for start in range(len(held), len(ids), batch):
        chunk = ids[start : start + batch]
        target.add_samples(source.get_samples(chunk))
        copied += len(chunk)
        if progress is not None:
            progress(len(chunk))
    logger.info("dataset %r: %d samples copied", source.name, copied)
    return copied

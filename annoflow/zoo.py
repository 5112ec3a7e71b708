"""``annoflow.zoo``: FiftyOne's ``fiftyone.zoo`` for the quickstart datasets, so the guide's examples run
with ``import annoflow.zoo as foz``.

annoflow has no dataset zoo to download from: ``quickstart`` and ``quickstart-video`` are the synthetic
stand-ins of ``annoflow quickstart``, drawn once into the data dir and loaded from there afterwards.
"""

from __future__ import annotations

from annoflow.adapters import wiring
from annoflow.adapters.quickstart import load_quickstart
from annoflow.application.dataset import Dataset

ZOO = {"quickstart": False, "quickstart-video": True}  # name -> video


def load_zoo_dataset(name: str, max_samples: int | None = None, *, dataset_name: str | None = None) -> Dataset:
    """The named quickstart dataset, drawn into the data dir the first time (200 images, or 10 videos).

    Args:
        name: ``"quickstart"`` or ``"quickstart-video"``.
        max_samples: how many samples to draw when the dataset is built (an existing one is kept as it is).
        dataset_name: the dataset's name in the store (default: ``name``).

    Returns:
        The dataset.

    Raises:
        ValueError: a name the zoo does not hold.
    """
    if name not in ZOO:
        raise ValueError(f"annoflow's zoo holds {sorted(ZOO)}, not {name!r}")
    dataset = wiring.open_dataset(dataset_name or name)
    if not len(dataset.store):
        video = ZOO[name]
        count = max_samples if max_samples is not None else (10 if video else 200)
        load_quickstart(
            dataset.store, wiring.data_dir() / "media" / (dataset_name or name), video=video, num_samples=count
        )
    return dataset

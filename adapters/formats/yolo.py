"""YOLO v5/v8 datasets, in and out: a ``data.yaml`` naming the classes and each split's images,
and beside each image folder's ``images`` a ``labels`` folder of one text file per image.

Every line is checked before anything is added; docs/formats.md gives the rules.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from annoflow.adapters.formats.common import created_mode, rounded
from annoflow.adapters.formats.errors import DataExportError, DataImportError, raise_if
from annoflow.adapters.formats.media import IMAGE_EXTENSIONS, image_metadata
from annoflow.domain.labels import Detection, Detections, Polyline, Polylines
from annoflow.domain.samples import MediaType, Sample

SPLITS = ("train", "val", "test")
_CLIP = 1e-3  # a box this far out of [0, 1] is rounding in the file: clipped


def _yaml_path(dataset_dir: Path) -> Path:
    for name in ("data.yaml", "dataset.yaml", "data.yml"):
        if (dataset_dir / name).is_file():
            return dataset_dir / name
    raise DataImportError([f"{dataset_dir}: no data.yaml (a YOLO dataset names its classes and splits there)"])


def _names(config: dict, where: Path) -> dict[int, str]:
    names = config.get("names")
    if isinstance(names, list):
        names = dict(enumerate(names))
    if (
        not isinstance(names, dict)
        or not names
        or not all(
            isinstance(k, int) and not isinstance(k, bool) and isinstance(v, str) and v for k, v in names.items()
        )
    ):
        raise DataImportError([f"{where}: 'names' is not a list of class names or a mapping index -> name"])
    return names


def _split_images(root: Path, entry: Any, where: Path, split: str) -> list[Path] | str:
    entries = entry if isinstance(entry, list) else [entry]
    found: list[Path] = []
    for item in entries:
        if not isinstance(item, str):
            return f"{split!r} is {item!r}, not a folder or a list file"
        path = Path(item) if os.path.isabs(item) else root / item
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        elif path.is_file() and path.suffix == ".txt":
            lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
            # As ultralytics reads a list: "./x" from the list's folder, other relative paths from the root.
            found += [
                Path(line) if os.path.isabs(line) else path.parent / line[2:] if line.startswith("./") else root / line
                for line in lines
            ]
        else:
            return f"{split!r}: {path} is neither a folder of images nor a .txt list of them"
    return found


def label_path(image: Path) -> Path:
    """Where YOLO keeps an image's labels: its path with the last ``images`` folder as ``labels``, ``.txt``."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def _line_label(numbers: list[float], line: str, names: dict[int, str]) -> Detection | Polyline | str:
    index = numbers[0]
    if index != int(index) or int(index) not in names:
        return f"class index {line.split()[0]} is not one of data.yaml's names (0..{max(names)})"
    name = names[int(index)]
    coords = numbers[1:]
    if any(c < -_CLIP or c > 1 + _CLIP for c in coords[: 4 if len(coords) <= 5 else None]):
        return "coordinates are relative, in [0, 1]"
    if len(coords) in (4, 5):
        xc, yc, w, h = coords[:4]
        if w < 0 or h < 0:
            return "a box with a negative size"
        x, y = xc - w / 2, yc - h / 2
        x0, y0, x1, y1 = max(x, 0.0), max(y, 0.0), min(x + w, 1.0), min(y + h, 1.0)
        box = (x, y, w, h) if (x0, y0, x1, y1) == (x, y, x + w, y + h) else (x0, y0, x1 - x0, y1 - y0)
        confidence = coords[4] if len(coords) == 5 else None
        return Detection(label=name, bounding_box=box, confidence=confidence)
    if len(coords) >= 6 and len(coords) % 2 == 0:
        points = [(min(max(coords[i], 0.0), 1.0), min(max(coords[i + 1], 0.0), 1.0)) for i in range(0, len(coords), 2)]
        return Polyline(label=name, points=[points], closed=True, filled=True)
    return f"{len(coords)} coordinates: neither a box (4, or 5 with a confidence) nor a polygon (6 or more, even)"


def _read_labels(path: Path, names: dict[int, str]) -> tuple[list[Detection | Polyline], list[str]]:
    labels, problems = [], []
    try:
        text = path.read_text()
    except FileNotFoundError:
        return [], []  # an image without labels (a background image)
    except (OSError, UnicodeDecodeError) as error:
        return [], [f"{path}: cannot be read ({error})"]
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            numbers = [float(v) for v in line.split()]
        except ValueError:
            problems.append(f"{path}: line {number}: {line.strip()!r} is not numbers")
            continue
        label = _line_label(numbers, line, names) if all(map(_finite, numbers)) else "numbers must be finite"
        if isinstance(label, str):
            problems.append(f"{path}: line {number}: {label}")
        else:
            labels.append(label)
    return labels, problems


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


def read_yolo(
    dataset_dir: str | os.PathLike[str], label_field: str = "ground_truth", splits: Sequence[str] | None = None
) -> list[Sample]:
    """The samples of a YOLO dataset's splits (default: every split data.yaml names), tagged with
    their split, labels in ``label_field`` (see the module docstring).

    Raises:
        DataImportError: every problem found, each naming the file (and line).
    """
    return read_yolo_with_info(dataset_dir, label_field, splits)[0]


def read_yolo_with_info(
    dataset_dir: str | os.PathLike[str], label_field: str = "ground_truth", splits: Sequence[str] | None = None
) -> tuple[list[Sample], dict[str, Any]]:
    """The samples and the dataset info data.yaml gives: ``classes``, the names by index (as FiftyOne's
    ``dataset.info`` keeps them), so an export gives each class its index again."""
    where = _yaml_path(Path(dataset_dir))
    try:
        config = yaml.safe_load(where.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise DataImportError([f"{where}: not readable YAML ({error})"]) from None
    if not isinstance(config, dict):
        raise DataImportError([f"{where}: not a mapping of names and splits"])
    names = _names(config, where)
    root = Path(config["path"]) if isinstance(config.get("path"), str) else where.parent
    root = root if root.is_absolute() else where.parent / root
    wanted = list(splits) if splits is not None else [s for s in SPLITS if config.get(s)]
    problems, samples = [], []
    kinds: set[type] = set()
    for split in wanted:
        if not config.get(split):
            problems.append(f"{where}: no {split!r} split")
            continue
        images = _split_images(root, config[split], where, split)
        if isinstance(images, str):
            problems.append(f"{where}: {images}")
            continue
        for image in images:
            meta = image_metadata(image)
            if isinstance(meta, str):
                problems.append(f"{image}: {meta}")
                continue
            labels, found = _read_labels(label_path(image), names)
            problems += found
            kinds |= {type(label) for label in labels}
            samples.append(
                (
                    Sample(filepath=os.path.abspath(image), media_type=MediaType.IMAGE, metadata=meta, tags=(split,)),
                    labels,
                )
            )
    if len(kinds) > 1:
        problems.append(f"{where}: the label files mix boxes and polygons; a YOLO dataset holds one or the other")
    raise_if(problems)
    container = Polylines if kinds == {Polyline} else Detections
    classes = [names[i] for i in range(max(names) + 1)] if set(names) == set(range(len(names))) else None
    info = {"classes": classes} if classes is not None else {}
    return [sample.with_value(label_field, container(labels)) for sample, labels in samples], info


# --- out ----------------------------------------------------------------------------------------


def _line(label: Detection | Polyline, index: int) -> str | None:
    if isinstance(label, Detection):
        x, y, w, h = label.bounding_box
        numbers = [x + w / 2, y + h / 2, w, h] + ([label.confidence] if label.confidence is not None else [])
    else:
        shape = next((s for s in label.points if len(s) >= 3), None)
        if shape is None:
            return None
        numbers = [c for point in shape for c in point]
    return " ".join([str(index)] + [repr(rounded(v)) for v in numbers])


def _unique_name(name: str, taken: set[str]) -> str:
    stem, suffix = os.path.splitext(name)
    candidate, n = name, 0
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}_{n}{suffix}"
    taken.add(candidate.lower())
    return candidate


def write_yolo(
    samples: Iterable[Sample],
    export_dir: str | os.PathLike[str],
    label_field: str,
    classes: Sequence[str] | None = None,
    export_media: bool | str = "symlink",
    split: str = "val",
    known: Sequence[str] = (),
) -> Path:
    """Write a YOLO dataset of the samples' ``label_field`` into ``export_dir`` (new or empty), whole or
    not at all; ``export_media``: ``"symlink"``, ``"copy"`` (or True) or False (labels only). Class
    indices: ``classes``, else ``known`` (the dataset info's) with other names after them, sorted.
    Returns the data.yaml written."""
    export_dir = Path(export_dir)
    if export_dir.exists() and (not export_dir.is_dir() or any(export_dir.iterdir())):
        raise DataExportError(f"{export_dir} exists and is not an empty folder")
    if export_media not in (True, False, "copy", "symlink"):
        raise DataExportError(f"export_media is 'symlink', 'copy', True or False, got {export_media!r}")
    rows = []
    for sample in samples:
        if sample.media_type is not MediaType.IMAGE:
            raise DataExportError(f"YOLO holds images; sample {sample.id} is a {sample.media_type.value}")
        value = sample.fields.get(label_field)
        if value is not None and not isinstance(value, (Detections, Polylines)):
            raise DataExportError(
                f"YOLO holds boxes and polygons; field {label_field!r} holds "
                f"{type(value).__name__} on sample {sample.id}"
            )
        rows.append((sample, value.items if value is not None else ()))
    found = sorted({label.label for _, items in rows for label in items})
    order = list(classes) if classes is not None else [*known, *(n for n in found if n not in set(known))]
    if missing := sorted(set(found) - set(order)):
        raise DataExportError(f"labels {missing} are not in classes {order}")
    index = {name: i for i, name in enumerate(order)}
    export_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=export_dir.parent, prefix=f".{export_dir.name}.", suffix=".part"))
    try:
        taken: dict[str, set[str]] = {}
        for sample, items in rows:
            part = next((t for t in sample.tags if t in SPLITS), split)
            name = _unique_name(os.path.basename(sample.filepath), taken.setdefault(part, set()))
            (staging / "images" / part).mkdir(parents=True, exist_ok=True)
            (staging / "labels" / part).mkdir(parents=True, exist_ok=True)
            target = staging / "images" / part / name
            if export_media == "symlink":
                os.symlink(os.path.abspath(sample.filepath), target)
            elif export_media in (True, "copy"):
                shutil.copy2(sample.filepath, target)
            lines = [line for label in items if (line := _line(label, index[label.label])) is not None]
            (staging / "labels" / part / name).with_suffix(".txt").write_text("".join(f"{line}\n" for line in lines))
        config: dict[str, Any] = {"path": str(export_dir.resolve())}
        config.update({part: f"images/{part}" for part in SPLITS if part in taken})
        config["names"] = dict(enumerate(order))
        (staging / "data.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        os.chmod(staging, created_mode(directory=True))
        if export_dir.exists():
            export_dir.rmdir()
        os.replace(staging, export_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return export_dir / "data.yaml"

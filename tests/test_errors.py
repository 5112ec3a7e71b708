"""One error hierarchy: every exception class annoflow defines derives from AnnoflowError."""

import importlib
import importlib.util
import inspect
import pkgutil

import pytest

import annoflow as af
from annoflow.domain.errors import AnnoflowError

# The simulator stands for a foreign server (it imports nothing of annoflow's model): its
# SimError becomes an HTTP error answer and never reaches a caller of annoflow.
FOREIGN = ("annoflow.adapters.cvat_sim",)
# Signals raised and caught inside one adapter, never reaching a caller: the request's deadline
# running out in an httpcore socket wait (the client turns it into a CVATTimeoutError), an answer
# that cannot be read at all (a CVATAnswerError), one object that cannot become a label and a
# track whose keyframes cannot be interpolated (refusals the load records), and a view filter SQL
# does not evaluate (the view evaluates it in Python).
# Modules of an extra that is not installed cannot be imported (the fiftyone extra's import FiftyOne):
# where it is installed (.ci/run installs every extra) they are walked too.
OPTIONAL = {"fiftyone": ("annoflow.fiftyone", "annoflow.adapters.label_stores.fiftyone_")}
INTERNAL = {
    "annoflow.adapters.cvat.deadline.DeadlineExceeded",
    "annoflow.adapters.cvat_format.answer._MalformedError",
    "annoflow.adapters.cvat_format.download.UnreadableError",
    "annoflow.adapters.cvat_format.interpolation.NotInterpolableError",
    "annoflow.adapters.label_stores.expression_sql.UnsupportedError",
}


def _exception_classes() -> list[type[BaseException]]:
    found = []
    for root in ("annoflow", "annoflow.domain", "annoflow.application", "annoflow.adapters"):
        package = importlib.import_module(root)
        names = [root] + [m.name for m in pkgutil.walk_packages(package.__path__, f"{root}.")]
        for name in names:
            if any(
                name.startswith(prefixes)
                for extra, prefixes in OPTIONAL.items()
                if importlib.util.find_spec(extra) is None
            ):
                continue
            if name.startswith(FOREIGN) or (
                root == "annoflow" and name.startswith(("annoflow.domain", "annoflow.application", "annoflow.adapters"))
            ):
                continue
            module = importlib.import_module(name)
            found += [
                c
                for _, c in inspect.getmembers(module, inspect.isclass)
                if issubclass(c, BaseException) and c.__module__ == name and f"{name}.{c.__qualname__}" not in INTERNAL
            ]
    return found


def test_every_annoflow_exception_derives_from_annoflow_error():
    classes = _exception_classes()
    assert len(classes) >= 15  # the walk found the modules that define them
    assert [c.__qualname__ for c in classes if not issubclass(c, AnnoflowError)] == []


def test_every_annoflow_exception_is_on_the_face():
    for cls in _exception_classes():
        assert getattr(af, cls.__name__) is cls, cls
    assert af.AnnoflowError is AnnoflowError


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (af.RunError, ValueError),
        (af.RunConflictError, ValueError),
        (af.LabelSchemaError, ValueError),
        (af.TaskPlanError, ValueError),
        (af.BackendConfigError, ValueError),
        (af.FieldSchemaError, ValueError),
        (af.ProjectNotFoundError, LookupError),
        (af.UnknownSampleError, KeyError),
        (af.MediaNotFoundError, FileNotFoundError),
        (af.CVATAuthError, af.CVATError),
        (af.CredentialsError, af.CVATError),
    ],
)
def test_errors_keep_the_builtin_base_callers_caught_before(error, builtin):
    assert issubclass(error, builtin) and issubclass(error, AnnoflowError)


def test_one_except_catches_a_refused_annotate(tmp_path):
    dataset = af.open_dataset(
        "ds", env={"ANNOFLOW_DATA_DIR": str(tmp_path), "PERSISTENCE_MODULE": "eventsourcing.popo"}
    )
    with pytest.raises(AnnoflowError, match="invalid label schema"):
        dataset.annotate("run", label_field="new_field", url="http://127.0.0.1:9", username="u", password="p")

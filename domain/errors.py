"""The base of annoflow's errors: every exception class annoflow defines derives from it, so
``except annoflow.AnnoflowError`` catches them all. (A value object built with a bad argument,
a label or a sample, raises Python's ValueError or TypeError, as attrs validators do.)

Each error also keeps the builtin base a caller would expect (``RunError`` is a
``ValueError``, ``UnknownSampleError`` a ``KeyError``, ...), so code that caught
those before still does. The tree, from the layer that defines each:

    AnnoflowError
    ├── RunError (ValueError): a command the run's state does not allow (domain)
    │   └── RunConflictError: another process changed the run at the same time (application)
    ├── LabelSchemaError (ValueError): every problem of annotate()'s label schema (domain)
    ├── TaskPlanError (ValueError): task_size, assignees, frame ranges (domain)
    ├── BackendConfigError (ValueError): backend options that cannot work (application)
    ├── ProjectNotFoundError (LookupError): a project id the server does not show (application)
    ├── MediaNotFoundError (FileNotFoundError): media files that do not exist (application)
    ├── UnknownSampleError (KeyError): a sample the label store does not hold (application)
    ├── DuplicateSampleError (ValueError): samples whose ids the label store holds already (application)
    ├── FieldSchemaError (ValueError): a value that does not fit its field (application)
    └── a backend's own errors (adapters): a request the server refused or could not answer,
        credentials missing (ARCHITECTURE.md, "Errors", names them)
"""


class AnnoflowError(Exception):
    """Something annoflow refused or could not do; every exception class annoflow defines derives from it."""

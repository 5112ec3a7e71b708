"""The AnnotationBackend port's CVAT adapter: the CVAT client plus the CVAT JSON conversion."""

from annoflow.adapters.cvat_backend.backend import CVATBackend

__all__ = ["CVATBackend"]

"""A secret value that never shows itself: not in a repr, a str, a log line or an error.

The class lives in the application (`annoflow.application.secrets`), which seals credentials as
they enter annoflow's service API; the CVAT adapter keeps them in it until the one request that
sends them.
"""

from annoflow.application.secrets import Secret, seal_credentials

__all__ = ["Secret", "seal_credentials"]

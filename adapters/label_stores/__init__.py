"""Label store adapters: in memory (tests, fakes) and SQLite (the embedded default).

The PostgreSQL store (`postgres.py`) needs the `postgres` extra and is imported only when chosen.
"""

from annoflow.adapters.label_stores.memory import InMemoryLabelStore
from annoflow.adapters.label_stores.sqlite import SqliteLabelStore

__all__ = ["InMemoryLabelStore", "SqliteLabelStore"]

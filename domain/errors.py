"""The base of annoflow's errors: ``except annoflow.AnnoflowError`` catches every error annoflow defines.

Each error also keeps the builtin base a caller would expect (``RunError`` is a ``ValueError``,
``UnknownSampleError`` a ``KeyError``); ARCHITECTURE.md ("Errors") lists them.
"""


class AnnoflowError(Exception):
    """Something annoflow refused or could not do; every exception class annoflow defines derives from it."""

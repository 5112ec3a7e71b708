"""Helpers for step code."""


def attempt(world, call):
    """Run a user's call, keeping its result or its error for the Then steps to check."""
    try:
        world["result"] = call()
        world["error"] = None
    except Exception as error:  # noqa: BLE001 - any error is an outcome a Then step checks
        world["error"] = error

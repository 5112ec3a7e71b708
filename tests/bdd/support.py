"""Helpers for step code."""


def attempt(world, call):
    """Run a user's call, keeping its result or its error for the Then steps to check."""
    try:
        world["result"] = call()
        world["error"] = None
    except Exception as error:
        world["error"] = error

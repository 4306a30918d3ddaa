"""chipclear's headless core: case and rule-pack formats, the rule engine, decisions.

Importing ``chipclear`` never imports Textual or the command line; those live in
``chipclear.tui``.
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__``, looked up on first use: importlib.metadata costs ~50 ms at start-up,
    which every command (``chipclear --help`` included) would otherwise pay."""
    if name != "__version__":
        raise AttributeError(f"module 'chipclear' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("chipclear")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found

"""chipclear's headless core: case and rule-pack formats, the rule engine, decisions.

Importing ``chipclear`` never imports Textual or the command line; those live in
``chipclear.tui``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chipclear")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]

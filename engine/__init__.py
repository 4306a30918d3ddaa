"""chipclear's headless core: case and rule-pack formats, the rule engine, decisions.

Importing ``engine`` never imports Textual; the terminal UI lives in ``tui``.
"""

__version__ = "0.1.0"

"""``python -m chipclear``: the command line, as the ``chipclear`` script runs it.

The one module of the core that reaches into ``chipclear.tui``: it is a process entry
point, never imported by the library.
"""

from chipclear.tui.cli.main import main

main()

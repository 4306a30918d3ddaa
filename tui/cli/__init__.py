"""The ``chipclear`` command line (Typer), one module per command group."""

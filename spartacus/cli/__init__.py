"""The ``spartacus`` command line (``spartacus.cli.main``)."""

from .main import cli, main

__all__ = ["cli", "main"]

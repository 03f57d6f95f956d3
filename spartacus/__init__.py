"""Spartacus: anonymous pledges to collective action, revealed together at a threshold."""

__version__ = "0.1.0"

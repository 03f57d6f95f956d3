"""The custodian watcher: a daemon that does a custodian's whole job on its own.

It finds the campaigns that list this custodian, releases its shares once the reveal is
confirmed (at the finalized block, agreed by a quorum of RPC sources), finalizes pending
campaigns whose grace has ended, expires campaigns past their deadline, and destroys
campaign keys that can no longer be needed. Progress is saved in
``<home>/watcher/state.json`` after every step, and every decision is re-derived from the
chain, so a restart at any point repeats nothing.
"""

from __future__ import annotations

from .daemon import Watcher, WatchSettings
from .state import WatchState

__all__ = ["WatchSettings", "WatchState", "Watcher"]

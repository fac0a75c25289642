"""Inputs of a replay, importable without Django set up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ReplayEvent:
    event_id: str
    occurred_at: dt.datetime
    latitude: float
    longitude: float
    kind: str = ""


@dataclass(frozen=True)
class StationSpec:
    name: str
    latitude: float
    longitude: float

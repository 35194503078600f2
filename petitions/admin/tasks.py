"""Periodic admin work run by beat."""

from __future__ import annotations

"""Abuse resistance: rate limits with silent flagging, allow and block lists, bot traps,
and alerts when one IP or email domain floods a petition."""

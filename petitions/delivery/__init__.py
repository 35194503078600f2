"""Delivering a petition to its target: the pack (PDF and CSV) and the delivery email."""

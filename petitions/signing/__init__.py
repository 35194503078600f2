"""Petitions, signatures, double opt-in confirmation and counting."""

"""Accountability figures replayed from the verified log."""

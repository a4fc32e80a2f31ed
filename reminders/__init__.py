"""Reminders: relationships going cold (follow-ups and digests come later)."""

from reminders.cold import ColdRelationship, Relationship, find_cold

__all__ = ["ColdRelationship", "Relationship", "find_cold"]

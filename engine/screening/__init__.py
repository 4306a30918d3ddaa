"""Restricted-party screening: buyer names against the Entity List and the allow lists."""

"""Kudos & Pulse: the platform-neutral core."""

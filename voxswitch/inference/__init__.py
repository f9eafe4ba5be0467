"""Shared inference pools. Knows nothing of WebSockets or sessions beyond an opaque session key."""

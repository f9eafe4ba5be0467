"""The one exception hierarchy of voxswitch.

Everything the project raises on purpose derives from :class:`VoxswitchError`,
so a session owner can catch exactly what it expects and let the rest
propagate::

    VoxswitchError
    ├── ConfigError            invalid settings (start-up exits with code 2)
    ├── ModelError             a model could not be found or loaded
    ├── InferenceError         a pool could not serve one request
    │   ├── BadInputError      the caller's input is invalid (empty, wrong rate, too long, not text)
    │   ├── PoolClosedError    the pool is shutting down
    │   └── PoolOverloadedError  the pool's queue is full
    ├── RequestCancelledError  the request was cancelled (barge-in, session end)
    └── SessionError           a session must end; carries the WebSocket close code
        ├── ProtocolError      the client broke the wire protocol (1007 / 1009)
        └── AdmissionRefused   the server is full or draining (1013)
"""

from __future__ import annotations


class VoxswitchError(Exception):
    """Base class of every error voxswitch raises on purpose."""


class ConfigError(VoxswitchError):
    """Settings are invalid."""


class ModelError(VoxswitchError):
    """A model could not be located or loaded."""


class InferenceError(VoxswitchError):
    """A pool could not serve one request; other requests are unaffected."""


class BadInputError(InferenceError):
    """The input given to a pool is invalid for that model."""


class PoolClosedError(InferenceError):
    """The pool is closed or closing and takes no more work."""


class PoolOverloadedError(InferenceError):
    """The pool's queue is full; try again later."""


class RequestCancelledError(VoxswitchError):
    """The request was cancelled before it completed (barge-in or session end)."""


class SessionError(VoxswitchError):
    """A session has to end with the given WebSocket close code."""

    close_code: int = 1011

    def __init__(self, message: str, *, close_code: int | None = None):
        super().__init__(message)
        if close_code is not None:
            self.close_code = close_code


class ProtocolError(SessionError):
    """The client broke the wire protocol."""

    close_code = 1007


class AdmissionRefused(SessionError):
    """The server will not take this session now (at capacity or draining)."""

    close_code = 1013


class BenchError(VoxswitchError):
    """A load-test step could not proceed: a call failed, or a server under test did not start.

    ``kind`` is a short stable label the bench counts errors by (e.g. ``connect_timeout``).
    """

    def __init__(self, message: str, *, kind: str = "error"):
        super().__init__(message)
        self.kind = kind

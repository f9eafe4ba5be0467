"""The WebSocket edge: routes, session lifecycle, admission, metrics."""

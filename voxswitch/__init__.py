"""voxswitch: many concurrent Pipecat voice sessions over WebSocket, sharing pooled models."""

__version__ = "0.1.0"

"""Per-session Pipecat pipelines built on the shared pools."""

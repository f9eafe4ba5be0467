"""ONNX Runtime sessions under the thread budget: one thread per call."""

from __future__ import annotations

from pathlib import Path

import onnxruntime

from voxswitch.errors import ModelError


def single_thread_session(path: Path, what: str) -> onnxruntime.InferenceSession:
    """An ONNX session whose every call uses one core (parallelism comes from the pools).

    Raises :class:`ModelError` naming ``what`` when the file cannot be loaded.
    """
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    try:
        return onnxruntime.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
    except Exception as e:  # onnxruntime raises its own untyped errors
        raise ModelError(f"cannot load {what} from {path}: {e}") from e

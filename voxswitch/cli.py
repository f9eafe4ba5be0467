"""``voxswitch serve | models | bench``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Literal, get_origin

# Pipecat announces itself through loguru at INFO on import; keep the CLI quiet
# (loguru reads this once, when it is first imported).
os.environ.setdefault("LOGURU_LEVEL", "WARNING")

from voxswitch.config import Settings, load_settings
from voxswitch.errors import ConfigError, ModelError

# Every Settings field is a flag; flags left unset fall back to VOXSWITCH_* or defaults.


def _choices(annotation: object) -> tuple[str, ...] | None:
    """The allowed values of a ``Literal[...]`` field, else None."""
    return tuple(annotation.__args__) if get_origin(annotation) is Literal else None  # type: ignore[attr-defined]


def _flag_type(annotation: object) -> type:
    """int, float or str from a field's annotation (``int | None`` counts as int)."""
    if _choices(annotation):
        return str
    for kind in (int, float, str):
        if annotation is kind or kind in getattr(annotation, "__args__", ()):
            return kind
    raise TypeError(f"no command-line type for {annotation!r}")


_SERVE_FLAGS: tuple[tuple[str, type], ...] = tuple(
    (name, _flag_type(field.annotation)) for name, field in Settings.model_fields.items()
)


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    for name, kind in _SERVE_FLAGS:
        field = Settings.model_fields[name]
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=kind,
            choices=_choices(field.annotation),
            default=None,
            help=f"{field.description or name} (env VOXSWITCH_{name.upper()})",
        )


def _settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(**{name: getattr(args, name, None) for name, _ in _SERVE_FLAGS})


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxswitch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="load the models and serve /ws")
    _add_settings_flags(serve)
    models = sub.add_parser("models", help="load every model, run one inference each")
    _add_settings_flags(models)
    bench = sub.add_parser("bench", help="load test a Pipecat-protocol server")
    try:
        from voxswitch.bench.cli import add_bench_arguments
    except ImportError:  # the bench is optional in a stripped-down deployment
        add_bench_arguments = None
    if add_bench_arguments is not None:
        add_bench_arguments(bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "bench":
            from voxswitch.bench.cli import run_bench

            return run_bench(args)
        settings = _settings_from(args)
        logging.basicConfig(
            level=settings.log_level.upper() if settings.log_level != "trace" else "DEBUG",
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        _quiet_pipecat(settings.log_level)
        if args.command == "models":
            from voxswitch.inference.check import run_model_check

            return run_model_check(settings)
        from voxswitch.server.serve import serve

        return asyncio.run(serve(settings))
    except ConfigError as e:
        print(f"voxswitch: {e}", file=sys.stderr)
        return 2
    except ModelError as e:
        print(f"voxswitch: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _quiet_pipecat(level: str) -> None:
    """Pipecat logs through loguru at DEBUG by default: per-session chatter at scale."""
    from loguru import logger

    logger.remove()
    loguru_level = {"trace": "TRACE", "debug": "DEBUG"}.get(level, "WARNING")
    logger.add(sys.stderr, level=loguru_level, filter=_pipecat_record_wanted)


def _pipecat_record_wanted(record: dict) -> bool:
    # Pipecat warns once per session that vad_stop_secs differs from the 0.2 s its
    # STT latency tables assume. Our transcripts arrive finalized, so those tables
    # are never consulted; at 100 callers it would be 100 identical warnings.
    return not (
        record["name"].startswith("pipecat.turns.user_stop")
        and "recommended default" in record["message"]
    )


if __name__ == "__main__":
    sys.exit(main())

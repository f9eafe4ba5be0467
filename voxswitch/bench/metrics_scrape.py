"""Read a server's Prometheus text exposition, and the difference a step made to it.

The parser is written here (the format is small) so that nothing outside
``voxswitch.server.metrics`` imports prometheus_client. Nothing depends on a
metric's exact name: every histogram and gauge under the prefix is reported.
Histogram quantiles are estimated from bucket deltas the way Prometheus's
``histogram_quantile`` does (linear within the bucket).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import httpx

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: Labels
    value: float


def _parse_value(text: str) -> float:
    text = text.strip()
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    return float(text)  # "NaN" included


def _parse_labels(text: str, start: int) -> tuple[Labels, int]:
    """Parse ``{a="x",b="y"}`` from ``text[start] == '{'``; returns labels and the index after."""
    labels: list[tuple[str, str]] = []
    i = start + 1
    while True:
        while i < len(text) and text[i] in " ,":
            i += 1
        if i >= len(text):
            raise ValueError("unterminated label set")
        if text[i] == "}":
            return tuple(labels), i + 1
        eq = text.index("=", i)
        name = text[i:eq].strip()
        if text[eq + 1] != '"':
            raise ValueError(f"label {name!r} value is not quoted")
        i = eq + 2
        value = []
        while text[i] != '"':
            if text[i] == "\\":
                i += 1
                value.append({"n": "\n", '"': '"', "\\": "\\"}.get(text[i], text[i]))
            else:
                value.append(text[i])
            i += 1
        labels.append((name, "".join(value)))
        i += 1


def parse_exposition(text: str) -> list[Sample]:
    """Samples of a Prometheus text-format exposition; malformed lines are skipped."""
    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            brace = line.find("{")
            space = line.find(" ")
            if brace != -1 and (space == -1 or brace < space):
                name = line[:brace]
                labels, end = _parse_labels(line, brace)
                rest = line[end:]
            else:
                name, rest = line[:space], line[space:]
                labels = ()
            value = _parse_value(rest.split()[0])
        except (ValueError, IndexError):
            continue
        samples.append(Sample(name, labels, value))
    return samples


@dataclass
class Histogram:
    name: str
    labels: Labels
    buckets: dict[float, float] = field(default_factory=dict)  # upper bound -> cumulative count
    count: float = 0.0
    total: float = 0.0

    def minus(self, before: Histogram | None) -> Histogram:
        if before is None:
            return self
        return Histogram(
            self.name,
            self.labels,
            {le: c - before.buckets.get(le, 0.0) for le, c in self.buckets.items()},
            self.count - before.count,
            self.total - before.total,
        )

    def quantile(self, q: float) -> float | None:
        """Estimated ``q`` quantile (0..1); None without observations."""
        if self.count <= 0 or not self.buckets:
            return None
        rank = q * self.count
        lower, below = 0.0, 0.0
        for le in sorted(self.buckets):
            cumulative = self.buckets[le]
            if cumulative >= rank:
                if math.isinf(le):
                    return lower  # beyond the last finite bucket: its bound is all we know
                in_bucket = cumulative - below
                if in_bucket <= 0:
                    return le
                return lower + (le - lower) * (rank - below) / in_bucket
            lower, below = le, cumulative
        return lower


def _without(labels: Labels, name: str) -> Labels:
    return tuple((k, v) for k, v in labels if k != name)


def histograms(samples: list[Sample], prefix: str) -> dict[tuple[str, Labels], Histogram]:
    found: dict[tuple[str, Labels], Histogram] = {}

    def get(base: str, labels: Labels) -> Histogram:
        key = (base, labels)
        if key not in found:
            found[key] = Histogram(base, labels)
        return found[key]

    for s in samples:
        if not s.name.startswith(prefix):
            continue
        if s.name.endswith("_bucket"):
            le = dict(s.labels).get("le")
            if le is not None:
                get(s.name[: -len("_bucket")], _without(s.labels, "le")).buckets[
                    _parse_value(le)
                ] = s.value
    for s in samples:
        for suffix, attr in (("_count", "count"), ("_sum", "total")):
            if s.name.endswith(suffix):
                key = (s.name[: -len(suffix)], s.labels)
                if key in found:
                    setattr(found[key], attr, s.value)
    return found


def step_histograms(before: str | None, after: str | None, prefix: str) -> list[dict[str, Any]]:
    """Every histogram under ``prefix`` that moved during the step: count, mean, p50, p95."""
    if after is None:
        return []
    old = histograms(parse_exposition(before), prefix) if before else {}
    rows = []
    for key, hist in sorted(histograms(parse_exposition(after), prefix).items()):
        delta = hist.minus(old.get(key))
        if delta.count <= 0:
            continue
        rows.append(
            {
                "metric": delta.name,
                "labels": dict(delta.labels),
                "count": int(delta.count),
                "mean": round(delta.total / delta.count, 5),
                "p50": _round(delta.quantile(0.5)),
                "p95": _round(delta.quantile(0.95)),
            }
        )
    return rows


def gauges(text: str | None, prefix: str) -> dict[str, float]:
    """Plain (label-free) samples under ``prefix`` that are not histogram parts."""
    if not text:
        return {}
    parts = ("_bucket", "_sum", "_count", "_created", "_total")
    return {
        s.name: s.value
        for s in parse_exposition(text)
        if s.name.startswith(prefix) and not s.labels and not s.name.endswith(parts)
    }


def counter_deltas(before: str | None, after: str | None, prefix: str) -> list[dict[str, Any]]:
    """Counters (``*_total``) under ``prefix`` that moved during the step, e.g. errors by stage."""
    if after is None:
        return []
    old = {
        (s.name, s.labels): s.value
        for s in (parse_exposition(before) if before else [])
        if s.name.endswith("_total")
    }
    rows = []
    for s in parse_exposition(after):
        if s.name.startswith(prefix) and s.name.endswith("_total"):
            delta = s.value - old.get((s.name, s.labels), 0.0)
            if delta:
                rows.append({"metric": s.name, "labels": dict(s.labels), "delta": delta})
    return rows


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 5)


async def scrape(client: httpx.AsyncClient, url: str | None, timeout_s: float = 5.0) -> str | None:
    """The exposition at ``url``, or None when the server has none (e.g. the plain-Pipecat peer)."""
    if url is None:
        return None
    try:
        response = await client.get(url, timeout=timeout_s)
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 else None

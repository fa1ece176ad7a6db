"""``s.explain()``: what computing a lazy signal will do, before doing it.

The plan is read from the dask graph, culled to what the result needs:

* tasks: how many tasks run;
* storage reads: the source layers (layers with no dependency: file readers,
  ``from_array``) and, of their chunks, those the result needs, with their bytes;
* rechunks: the rechunk layers on the way, with the bytes they move;
* estimated peak memory: ``workers x 2 x`` the largest chunk that flows through the graph,
  plus the result. A rough upper bound for streaming graphs; a graph that must gather many
  chunks in one task (a full rechunk of a signal axis) can need more, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .chunks import bytes_text, chunk_table, default_workers

__all__ = ["Plan", "explain_array"]


@dataclass
class Plan:
    """The plan of one lazy computation (see :func:`explain_array`)."""

    tasks: int
    source_chunks: int
    source_bytes: int
    sources: list[dict[str, Any]] = field(default_factory=list)
    rechunks: list[dict[str, Any]] = field(default_factory=list)
    output_shape: tuple[int, ...] = ()
    output_bytes: int = 0
    output_chunks: int = 0
    largest_chunk_bytes: int = 0
    workers: int = 1
    peak_memory_bytes: int = 0
    chunks: tuple = ()
    itemsize: int = 8
    axis_names: list[str] = field(default_factory=list)
    title: str = ""

    def __str__(self) -> str:
        lines = [f"Plan for {self.title}" if self.title else "Plan"]
        lines.append(f"  tasks to run:        {self.tasks}")
        lines.append(f"  storage reads:       {self.source_chunks} chunks, {bytes_text(self.source_bytes)}"
                     f" from {len(self.sources)} source(s)")
        for s in self.sources:
            lines.append(f"    {s['name']}: {s['chunks_read']} of {s['chunks_total']} chunks, "
                         f"{bytes_text(s['bytes_read'])} of {bytes_text(s['bytes_total'])}, chunk "
                         f"{tuple(s['chunksize'])} {s['dtype']}")
        if self.rechunks:
            for r in self.rechunks:
                lines.append(f"  rechunk:             {r['from']} -> {r['to']} ({bytes_text(r['bytes'])})")
        else:
            lines.append("  rechunks:            none")
        lines.append(f"  result:              shape {self.output_shape}, {bytes_text(self.output_bytes)} "
                     f"in {self.output_chunks} chunk(s)")
        lines.append(f"  estimated peak memory: ~{bytes_text(self.peak_memory_bytes)} ({self.workers} "
                     f"workers x 2 x largest chunk {bytes_text(self.largest_chunk_bytes)} + result)")
        if self.chunks:
            lines.append("  chunks of the data:")
            lines += ["    " + line for line in chunk_table(self.chunks, self.itemsize,
                                                            self.axis_names or None).splitlines()]
        return "\n".join(lines)


def _key_name(key: Any) -> str:
    return key[0] if isinstance(key, tuple) else str(key)


def _chunk_bytes(ann: dict, index: tuple[int, ...]) -> int:
    chunks = ann.get("chunks")
    dtype = ann.get("dtype")
    itemsize = np.dtype(dtype).itemsize if dtype is not None else 8
    if not chunks or len(index) != len(chunks):
        return 0
    return int(np.prod([c[i] for c, i in zip(chunks, index)], dtype=np.int64)) * itemsize


def _layer_bytes(ann: dict) -> tuple[int, int]:
    """Total bytes and largest chunk bytes of an array layer."""
    chunks, dtype = ann.get("chunks"), ann.get("dtype")
    if not chunks:
        return 0, 0
    itemsize = np.dtype(dtype).itemsize if dtype is not None and np.dtype(dtype) != object else 8
    total = int(np.prod([sum(c) for c in chunks], dtype=np.int64)) * itemsize
    biggest = int(np.prod([max(c) if c else 0 for c in chunks], dtype=np.int64)) * itemsize
    return total, biggest


def explain_array(array, *, workers: int | None = None, axis_names: list[str] | None = None,
                  title: str = "") -> Plan:
    """The :class:`Plan` of computing a dask ``array``.

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.ones((100, 100), chunks=(10, 100))
    >>> p = explain_array(x[:20].sum(axis=1), workers=2)
    >>> p.source_chunks, p.source_bytes, len(p.rechunks)
    (2, 16000, 0)
    """
    from dask.core import flatten, get_dependencies

    workers = workers or default_workers()
    hlg = array.__dask_graph__()
    graph = dict(hlg)
    # Cull: walk back from the result keys.
    needed: set = set()
    stack = list(flatten(array.__dask_keys__()))
    while stack:
        key = stack.pop()
        if isinstance(key, list):
            stack.extend(key)
            continue
        if key in needed or key not in graph:
            continue
        needed.add(key)
        stack.extend(get_dependencies(graph, key))
    layers = getattr(hlg, "layers", {})
    deps = getattr(hlg, "dependencies", {})
    sources, rechunks = [], []
    largest = 0
    for name, layer in layers.items():
        ann = layer.collection_annotations or {}
        total, biggest = _layer_bytes(ann)
        keys = [k for k in needed if _key_name(k) == name]
        if keys:
            largest = max(largest, biggest)
        if not deps.get(name) and ann.get("chunks"):
            read = [k for k in keys if isinstance(k, tuple)]
            sources.append({
                "name": name.rsplit("-", 1)[0] if len(name) > 40 else name,
                "chunks_read": len(read),
                "chunks_total": int(np.prod([len(c) for c in ann["chunks"]])),
                "bytes_read": sum(_chunk_bytes(ann, tuple(k[1:])) for k in read),
                "bytes_total": total,
                "chunksize": ann.get("chunksize", ()),
                "dtype": str(ann.get("dtype")),
            })
        if name.startswith("rechunk") and not name.startswith("rechunk-split") and keys:
            # One rechunk stage: its input is the nearest layer that is not a split step.
            origin = next(iter(deps.get(name, ())), None)
            while origin is not None and origin.startswith("rechunk-split") and deps.get(origin):
                origin = next(iter(deps[origin]))
            src = (layers[origin].collection_annotations or {}).get("chunksize") if origin else None
            rechunks.append({"name": name, "from": tuple(src) if src else "?",
                             "to": tuple(ann.get("chunksize", ())), "bytes": total})
    out_bytes = int(array.nbytes) if not np.isnan(array.nbytes) else 0
    out_biggest = _layer_bytes({"chunks": array.chunks, "dtype": array.dtype})[1]
    largest = max(largest, out_biggest)
    peak = workers * 2 * largest + out_bytes
    return Plan(
        tasks=len(needed),
        source_chunks=sum(s["chunks_read"] for s in sources),
        source_bytes=sum(s["bytes_read"] for s in sources),
        sources=sources,
        rechunks=_unique(rechunks),
        output_shape=tuple(array.shape),
        output_bytes=out_bytes,
        output_chunks=int(np.prod([len(c) for c in array.chunks])) if array.ndim else 1,
        largest_chunk_bytes=largest,
        workers=workers,
        peak_memory_bytes=peak,
        chunks=tuple(array.chunks),
        itemsize=array.dtype.itemsize if array.dtype != object else 8,
        axis_names=axis_names or [],
        title=title,
    )


def _unique(rechunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per rechunk (dask splits one rechunk into split/merge layers)."""
    seen, out = set(), []
    for r in rechunks:
        key = (r["from"], r["to"])
        if key not in seen and r["from"] != r["to"]:
            seen.add(key)
            out.append(r)
    return out

"""Where chunks of variants run: in this process, or on a Dask cluster, with the same results.

A chunk function is a module-level function ``fn(chunk, **shared)``; ``shared`` holds the big
read-only arrays (returns, the condition bank), sent to a cluster once (``scatter``), and
``chunk`` the small per-chunk argument (a slice of variant rows). Results come back in chunk
order whatever order the workers finish in, so a sweep is identical on both schedulers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

Progress = Callable[[int, int], None]


class Scheduler(Protocol):
    """Maps a chunk function over chunks, reporting ``progress(done, total)``."""

    def map_chunks(
        self,
        fn: Callable[..., Any],
        chunks: Sequence[Any],
        shared: dict[str, Any],
        progress: Progress | None = None,
    ) -> list[Any]:
        """``[fn(c, **shared) for c in chunks]``, in order."""
        ...


def local_threads() -> int:
    """Threads a local run uses: the CPUs this process may run on, at most 2.

    numpy releases the GIL in its loops, so two chunks (or two blocks of PBO splits) run at
    once on two cores; more threads than that compete with BLAS's own threads.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(2, cpus))


class LocalScheduler:
    """Runs the chunks in this process (plain numpy, no pickling), on ``threads`` threads.

    Results come back in chunk order whatever the threads' timing, and each chunk is
    computed exactly as on one thread, so the results do not depend on ``threads``.
    """

    def __init__(self, threads: int | None = None) -> None:
        self.threads = local_threads() if threads is None else max(1, int(threads))

    def map_chunks(
        self,
        fn: Callable[..., Any],
        chunks: Sequence[Any],
        shared: dict[str, Any],
        progress: Progress | None = None,
    ) -> list[Any]:
        """Evaluate each chunk, in order."""
        out = []
        if self.threads == 1 or len(chunks) < 2:
            results: Iterator[Any] = (fn(chunk, **shared) for chunk in chunks)
            pool = None
        else:
            pool = ThreadPoolExecutor(self.threads)
            results = pool.map(lambda chunk: fn(chunk, **shared), chunks)
        try:
            for i, got in enumerate(results):
                out.append(got)
                if progress is not None:
                    progress(i + 1, len(chunks))
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        return out

    def __repr__(self) -> str:
        return f"LocalScheduler(threads={self.threads})"


class DaskScheduler:
    """Runs the chunks on a Dask cluster (``distributed.Client``).

    Parameters
    ----------
    address : str or Client
        A scheduler address (``tcp://host:8786``) or an existing client (e.g. on a
        ``LocalCluster`` in tests). A client made here is closed by :meth:`close`.
    """

    def __init__(self, address: Any) -> None:
        from distributed import Client

        if isinstance(address, str):
            self.client = Client(address)
            self._own = True
        else:
            self.client = address
            self._own = False

    def map_chunks(
        self,
        fn: Callable[..., Any],
        chunks: Sequence[Any],
        shared: dict[str, Any],
        progress: Progress | None = None,
    ) -> list[Any]:
        """Scatter ``shared`` once, submit one task per chunk, gather in chunk order."""
        from distributed import as_completed

        remote = {k: self.client.scatter(v, broadcast=True) for k, v in shared.items()}
        futures = [self.client.submit(fn, chunk, **remote, pure=False) for chunk in chunks]
        position = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(futures)
        for done, fut in enumerate(as_completed(futures), start=1):
            out[position[fut.key]] = fut.result()
            if progress is not None:
                progress(done, len(futures))
        return out

    def close(self) -> None:
        """Close the client if this scheduler opened it."""
        if self._own:
            self.client.close()

    def __repr__(self) -> str:
        return f"DaskScheduler({self.client!r})"


def make_scheduler(address: str | None) -> LocalScheduler | DaskScheduler:
    """A :class:`DaskScheduler` on ``address``, or the :class:`LocalScheduler` when None."""
    return LocalScheduler() if not address else DaskScheduler(address)

"""Text encoding off the agent's critical path: ordered batches on one worker thread.

Episodic memory embeds every step's text. Encoding them when the episode ends used to take
over a third of a 6-room episode on two CPU cores (MiniLM on the step texts), and the encoder's
two torch threads fought the agent for the cores. :class:`BackgroundEncoder` runs the batches
on one worker thread instead, limited to ``threads`` torch threads (torch's thread count is
per calling thread), in chunks so that a query encoded meanwhile waits for one chunk at most.
Results come back in submission order; the owner integrates them when it next needs them.

Example:
    >>> from robomem.memory.background import BackgroundEncoder
    >>> from robomem.memory.encoders import make_encoder
    >>> bg = BackgroundEncoder(make_encoder("hash"))
    >>> bg.submit(["open the fridge", "pick up the mug"], payload="batch-1")
    >>> [(payload, vecs.shape) for payload, vecs in bg.ready(block=True)]
    [('batch-1', (2, 384))]
    >>> bg.close()
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from robomem.memory.encoders import TextEncoder

log = logging.getLogger(__name__)


def limit_torch_threads(threads: int) -> None:
    """Limit torch's intra-op threads in the calling thread (a no-op when torch is not loaded).

    With OpenMP builds the limit is per thread, so a worker can run with one thread while the
    agent's own thread keeps its default.
    """
    torch = sys.modules.get("torch")
    if torch is not None and threads > 0:
        torch.set_num_threads(threads)


class BackgroundEncoder:
    """Encode batches of texts on one worker thread, in the order they were submitted.

    Args:
        encoder: the text encoder (thread-safe, as robomem's are).
        threads: torch threads the worker may use (its share of the CPUs).
        chunk: texts per encoder call; a query encoded meanwhile waits for one chunk at most.
    """

    def __init__(self, encoder: TextEncoder, threads: int = 1, chunk: int = 16) -> None:
        if threads < 1 or chunk < 1:
            raise ValueError(f"threads and chunk must be at least 1, got {threads}, {chunk}")
        self.encoder, self.threads, self.chunk = encoder, threads, chunk
        self._pool: ThreadPoolExecutor | None = None
        self._queue: deque[tuple[Future[NDArray[np.float32]], Any]] = deque()
        self._lock = threading.Lock()

    def submit(self, texts: Sequence[str], payload: Any = None) -> None:
        """Queue ``texts`` for encoding; ``payload`` comes back with their vectors."""
        if not texts:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="robomem-encode",
                                            initializer=limit_torch_threads,
                                            initargs=(self.threads,))
        fut = self._pool.submit(self._encode, list(texts))
        with self._lock:
            self._queue.append((fut, payload))

    def _encode(self, texts: list[str]) -> NDArray[np.float32]:
        parts = [self.encoder.encode(texts[i:i + self.chunk])
                 for i in range(0, len(texts), self.chunk)]
        return np.concatenate(parts, axis=0)

    def ready(self, block: bool = False) -> list[tuple[Any, NDArray[np.float32]]]:
        """Finished batches as ``(payload, vectors)``, oldest first.

        Args:
            block: wait for every queued batch; else return the finished ones at the head of
                the queue (a later batch never comes back before an earlier one).

        Raises:
            Exception: an encoding error, raised here in the owner's thread.
        """
        out: list[tuple[Any, NDArray[np.float32]]] = []
        while True:
            with self._lock:
                if not self._queue or (not block and not self._queue[0][0].done()):
                    return out
                fut, payload = self._queue.popleft()
            out.append((payload, fut.result()))

    def payloads(self) -> list[Any]:
        """The payloads of the batches still queued or running, oldest first."""
        with self._lock:
            return [p for _, p in self._queue]

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)

    def close(self) -> None:
        """Wait for the queued batches, then stop the worker (results are dropped)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        with self._lock:
            self._queue.clear()

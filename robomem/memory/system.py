"""The memory system: one interface over every memory module, written and recalled in parallel.

Each module gets its own single worker thread, so calls to one module run one at a time and
in order, while different modules run side by side (numpy, faiss, open3d and torch release
the GIL). :meth:`MemorySystem.write` and :meth:`MemorySystem.recall` fan out and join; a
module that has not answered by the deadline is left out of that recall (and named in
``MemoryContext.late``), its work carries on in the background, and the next call to it
queues behind. Modules marked ``blocking`` (spatial: the agent walks on its map) are always
awaited. With ``parallel=False`` every hook runs in the caller's thread, module by module:
the results are the same, which the tests check.

Example:
    >>> from robomem.memory.system import MemorySystem, MemorySystemConfig
    >>> system = MemorySystem.from_config(MemorySystemConfig(modules=["temporal", "working"]))
    >>> system.names
    ['temporal', 'working']
    >>> system.close()
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from robomem.memory.base import (
    MEMORY_MODULES,
    EpisodeOutcome,
    EpisodeStart,
    Fact,
    MemoryContext,
    MemoryModule,
    MemoryQuery,
    MemoryStorage,
    StepInput,
)
from robomem.reservoir import Reservoir
from robomem.untrusted import loads_json

T = TypeVar("T")
log = logging.getLogger(__name__)
ALL_MODULES = ("spatial", "temporal", "episodic", "semantic", "working")
STATE_BLOB = "system/state"


@dataclass
class MemorySystemConfig:
    """Which modules, their options, and how they are run.

    Attributes:
        modules: registered module names, in order (``robomem`` ships spatial, temporal,
            episodic, semantic and working).
        parallel: fan out to a worker thread per heavy module (False: run them in turn).
            Off by default: on 2 cores with CPU-bound modules it measured 0.87x (see
            ``benchmarks/parallel_memory.py``); turn it on where modules wait on I/O (a remote
            model or store) or where more cores are free.
        deadline_ms: how long a write or recall waits for non-blocking modules.
        options: per-module constructor keyword arguments, e.g.
            ``{"episodic": {"encoder": "hash"}}``.
    """

    modules: list[str] = field(default_factory=lambda: list(ALL_MODULES))
    parallel: bool = False
    deadline_ms: float = 1000.0
    options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(set(self.modules)) != len(self.modules):
            raise ValueError(f"memory modules must not repeat, got {self.modules}")
        if not self.deadline_ms > 0:
            raise ValueError(f"deadline_ms must be positive, got {self.deadline_ms}")
        for name in self.modules:  # an unknown name first: it explains any options mismatch
            MEMORY_MODULES.get(name)
        extra = sorted(set(self.options) - set(self.modules))
        if extra:
            raise ValueError(f"options given for modules that are not enabled: {extra}; "
                             f"enabled: {self.modules}")


def build_module(name: str, options: dict[str, Any] | None = None) -> MemoryModule:
    """Instantiate registered module ``name`` with keyword ``options``.

    Raises:
        KeyError: an unknown name (the message lists the known ones).
        ValueError: an option the module does not take.
    """
    cls = MEMORY_MODULES.get(name)
    try:
        return cls(**(options or {}))
    except TypeError as e:
        raise ValueError(f"bad options for memory module {name!r}: {options}: {e}") from None


class MemorySystem:
    """Fans hooks out to memory modules and joins them; see the module docstring.

    Args:
        modules: the modules, each with a distinct ``name``.
        parallel: a worker thread per heavy module (False, the default: in the caller's
            thread, module by module; see :class:`MemorySystemConfig`).
        deadline_ms: the wait for non-blocking modules on write and recall.
    """

    def __init__(self, modules: list[MemoryModule], parallel: bool = False,
                 deadline_ms: float = 1000.0) -> None:
        names = [m.name for m in modules]
        if len(set(names)) != len(names) or "" in names:
            raise ValueError(f"memory modules need distinct, non-empty names, got {names}")
        self.modules = list(modules)
        self.parallel = parallel
        self.deadline = deadline_ms / 1000.0
        self._pools = ({m.name: ThreadPoolExecutor(1, thread_name_prefix=f"memory-{m.name}")
                        for m in modules if not m.light} if parallel else {})
        self._pending: dict[str, list[Future[Any]]] = {m.name: [] for m in modules}
        self.timings_ms: dict[str, Reservoir] = {}  # bounded over a lifelong run
        self.late_counts: dict[str, int] = dict.fromkeys(names, 0)
        self.next_episode = 0

    @classmethod
    def from_config(cls, cfg: MemorySystemConfig) -> MemorySystem:
        """Build every configured module."""
        mods = [build_module(n, cfg.options.get(n)) for n in cfg.modules]
        return cls(mods, cfg.parallel, cfg.deadline_ms)

    # ------------------------------------------------------------- access
    @property
    def names(self) -> list[str]:
        """The module names, in order."""
        return [m.name for m in self.modules]

    def has(self, name: str) -> bool:
        """Whether module ``name`` is enabled."""
        return any(m.name == name for m in self.modules)

    def module(self, name: str) -> MemoryModule:
        """Module ``name``; raises ``KeyError`` listing the enabled ones."""
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(f"memory module {name!r} is not enabled; enabled: {self.names}")

    # -------------------------------------------------------------- hooks
    def begin_episode(self, start: EpisodeStart) -> None:
        """Tell every module a new episode begins (waits for all)."""
        self._all(lambda m: m.begin_episode(start), "begin_episode", deadline=False)

    def write(self, step: StepInput) -> list[str]:
        """Write one step to every module; returns the modules that missed the deadline."""
        done = self._all(lambda m: m.write(step), "write")
        return [n for n in self.names if n not in done]

    def recall(self, query: MemoryQuery) -> MemoryContext:
        """Ask every module; late modules are left out and listed in ``late``."""
        out = self._all(lambda m: m.recall(query), "recall")
        facts: dict[str, list[Fact]] = {}
        late: list[str] = []
        for m in self.modules:
            res = out.get(m.name)
            if res is None:
                late.append(m.name)
            else:
                facts[m.name] = res
        return MemoryContext(facts, tuple(late))

    def recall_moments(self, text: str, k: int = 3, scene: str = "") -> list[Fact]:
        """"Recall the moment when ``text``": the ``k`` best matching past steps, best first.

        The same :class:`MemoryQuery` field (``moment``) works inside :meth:`recall`; here
        only episodic memory is asked, after its queued work, without a deadline. It answers
        by HCAM chunked recall (:meth:`~robomem.memory.episodic.EpisodicMemory.moments`).
        Each ``moment`` fact has the step text as its value and the episode, step, scene,
        chunk score and the neighbouring steps in its data.

        Raises:
            KeyError: episodic memory is not enabled.
            ValueError: an empty ``text`` or ``k`` below 1.
        """
        episodic = self.module("episodic")
        if not text.strip() or k < 1:
            raise ValueError(f"need a non-empty text and k >= 1, got {text!r} and {k}")
        self.sync()  # the steps written so far, with no deadline: the whole answer is wanted
        query = MemoryQuery(self.next_episode, 0, scene, moment=text, k=k)
        return [f for f in episodic.recall(query) if f.kind == "moment"]

    def end_episode(self, outcome: EpisodeOutcome) -> None:
        """Tell every module the episode ended (waits for all)."""
        self._all(lambda m: m.end_episode(outcome), "end_episode", deadline=False)
        self.next_episode = max(self.next_episode, outcome.episode + 1)

    def reset(self) -> None:
        """Forget everything in memory (a store is left as it is)."""
        self._all(lambda m: m.reset(), "reset", deadline=False)

    def sync(self) -> None:
        """Wait for every module's queued work (and raise the first error)."""
        for name in self.names:
            for f in self._pending[name]:
                f.result()
            self._pending[name] = []

    def attach(self, storage: MemoryStorage) -> None:
        """Load every module from a store, and the episode counter."""
        self.sync()
        from robomem.store.errors import StoreCorruptError

        where = getattr(storage, "path", type(storage).__name__)
        raw = storage.get_blob(STATE_BLOB)
        if raw is not None:
            try:
                state = loads_json(raw, max_chars=10_000)
                self.next_episode = int(state["next_episode"])
                if self.next_episode < 0:
                    raise ValueError(f"next_episode is negative ({self.next_episode})")
            except (ValueError, KeyError, TypeError) as e:
                raise StoreCorruptError(
                    f"store {where}: blob {STATE_BLOB!r} is corrupt "
                    f"({type(e).__name__}: {str(e)[:200]}); restore it from a snapshot or "
                    f"start a new store") from None
        for m in self.modules:
            try:
                m.attach(storage)
            except (ValueError, KeyError, TypeError, IndexError) as e:
                raise StoreCorruptError(
                    f"store {where}: memory module {m.name!r} cannot load its data "
                    f"({type(e).__name__}: {str(e)[:200]}); restore it from a snapshot or "
                    f"start a new store") from None
        log.info("memory loaded from store %s: modules %s, next episode %d", where,
                 ", ".join(self.names), self.next_episode)

    def save(self, storage: MemoryStorage) -> None:
        """Persist every module (call inside ``store.transaction()``; runs in this thread)."""
        self.sync()
        for m in self.modules:
            m.save(storage)
        storage.put_blob(STATE_BLOB, json.dumps({"next_episode": self.next_episode}).encode())

    def stats(self) -> dict[str, float]:
        """Every module's stats, prefixed with its name, and late counts."""
        self.sync()
        out: dict[str, float] = {}
        for m in self.modules:
            out.update({f"{m.name}_{k}": float(v) for k, v in m.stats().items()})
        out.update({f"{k}_late": float(v) for k, v in self.late_counts.items() if v})
        return out

    def close(self) -> None:
        """Finish queued work and stop the worker threads."""
        self.sync()
        for pool in self._pools.values():
            pool.shutdown(wait=True)
        self._pools = {}
        self.parallel = False
        for m in self.modules:
            m.close()

    # ---------------------------------------------------------- internals
    def _timed(self, name: str, hook: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            key = f"{hook}_{name}"
            samples = self.timings_ms.get(key)
            if samples is None:
                samples = self.timings_ms[key] = Reservoir()
            samples.add((time.perf_counter() - t0) * 1000.0)

    def _all(self, call: Callable[[MemoryModule], T], hook: str,
             deadline: bool = True) -> dict[str, T]:
        """Run ``call`` on every module; results by name, without the late ones."""
        if not self.parallel:
            return {m.name: self._timed(m.name, hook, partial(call, m)) for m in self.modules}
        t0 = time.perf_counter()
        futures: dict[str, Future[T]] = {}
        for m in self.modules:
            if m.light:
                continue
            self._pending[m.name] = [f for f in self._pending[m.name] if not f.done()
                                     or f.exception() is not None]
            futures[m.name] = self._pools[m.name].submit(self._timed, m.name, hook,
                                                         partial(call, m))
        # light modules run here meanwhile
        done_inline = {m.name: self._timed(m.name, hook, partial(call, m))
                       for m in self.modules if m.light}
        awaited = {m.name for m in self.modules if m.blocking or not deadline}
        must = [f for name, f in futures.items() if name in awaited]
        rest = [f for name, f in futures.items() if name not in awaited]
        wait(must)
        if rest:
            wait(rest, timeout=max(0.0, self.deadline - (time.perf_counter() - t0)))
        out: dict[str, T] = dict(done_inline)
        for name, f in futures.items():
            if f.done():
                out[name] = f.result()  # a module's error surfaces here
            else:
                self.late_counts[name] += 1
                self._pending[name].append(f)
                log.warning("memory module %r missed the %.0f ms deadline on %s: its answer "
                            "is left out (late %d times so far); its work goes on in the "
                            "background", name, self.deadline * 1000.0, hook,
                            self.late_counts[name])
        for name in self.names:  # an error in earlier late work surfaces now
            for f in self._pending[name]:
                if f.done() and f.exception() is not None:
                    self._pending[name].remove(f)
                    f.result()
        return out

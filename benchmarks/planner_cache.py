"""Planner call latency with and without the system-prefix KV cache (``LocalModel``).

A language-model planner sends the same long system part (skills, rules, the output format)
in every call and only the memory context changes. ``robomem.planners.local_lm.LocalModel``
prefills the system part once and starts every call from a copy of its KV cache, so a call
computes only the context, the end of the prompt and the answer. This benchmark measures
what that saves.

Model. A randomly initialised Llama (``transformers.LlamaForCausalLM``): hidden 512, 12
layers, 8 query heads and 2 key-value heads (grouped-query attention, as in current small
models), MLP 2048, an 8,192-word vocabulary, rotary positions up to 16k: about 54M
parameters, float32 on the CPU (bfloat16 on CUDA, ``device="auto"``), one CPU thread by
default (``--threads``: on the shared 2-core machine two threads made calls about 4x slower
and erratic). It and a word-level
tokenizer (every word one token) are saved with ``save_pretrained`` to a temporary folder and
loaded through ``LocalModel`` like any local checkpoint. Random weights produce random text,
but the cost of a forward pass does not depend on the weights.

A planner call: a system prefix of ``--prefixes`` tokens (512, 2k, 8k), a memory context of
``--context`` (200) tokens that differs in every call, and ``--new-tokens`` (24) greedy
tokens (end-of-sequence is not forced; the number generated is recorded). Per prefix size
and mode (``cached``: the prefix cache reused; ``uncached``: ``prefix_cache=False``, the
whole prompt computed in each call): one warm-up call (for ``cached`` it builds the prefix
cache; the one-off prefill time is reported separately as ``prefill_s``), then ``--reps``
timed calls with fresh contexts, or fewer when the calls are slow (the timed calls of one
mode stop after ``--budget`` seconds, at least one call). The figure is the median
milliseconds per call; ``prompt_ms`` is the median time to the first new token's logits
(the part of the call the cache can save: decoding is the same in both modes, one token at a
time and bound by reading the weights), and ``decode_ms_per_token`` the rest of a cached call
over its new tokens. Both modes answer the same requests and their answers are compared
(``outputs_match``; greedy decoding on float32 should agree token for token).

Target (from the issue): the cached call at least 5x faster than the uncached one at a 2k
prefix.

Measured 2026-11-22 (2 shared CPU cores, load about 2-2.6, one thread, 5 timed calls per
mode and prefix, 238 s; ``benchmarks/results``), ms per call cached / uncached: 850 / 1459
at 512 (1.7x), 1050 / 4275 at 2k (4.1x: target missed), 2237 / 23984 at 8k (10.7x). The
prompt part alone (to the first new token) is 3.1x, 8.8x and 21.6x faster; one-off prefill
0.85, 3.3 and 22.4 s. What keeps the whole call under 5x at 2k is decoding: 24 tokens at
about 27 ms each (batch-1 decoding reads all 54M float32 weights per token, the same work in
both modes), 640 ms of the cached call's 1050; even a free prompt would give at most
(3604 + 640) / 640 = 6.6x. Answers matched token for token in every call.

    python benchmarks/planner_cache.py --out benchmarks/results   # about 10 min, 2 CPU cores
    python benchmarks/planner_cache.py --quick                     # tiny model, seconds
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python benchmarks/x.py` too

from benchmarks.common import OUT, write_json
from robomem.planners.lm import GenerationRequest
from robomem.planners.local_lm import LocalModel

PREFIXES = [512, 2048, 8192]
TARGET_SPEEDUP_AT_2K = 5.0
FULL = {"vocab": 8192, "hidden": 512, "layers": 12, "heads": 8, "kv_heads": 2,
        "intermediate": 2048, "max_positions": 16384}
TINY = {"vocab": 512, "hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2,
        "intermediate": 128, "max_positions": 2048}
SPECIALS = ["<unk>", "<pad>", "<s>", "</s>"]


def save_model(folder: Path, spec: dict[str, int], seed: int = 0) -> int:
    """Save a random Llama of shape ``spec`` and a word-level tokenizer; the parameter count."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = [f"w{i}" for i in range(spec["vocab"] - len(SPECIALS))]
    tok = Tokenizer(models.WordLevel(vocab={t: i for i, t in enumerate(SPECIALS + words)},
                                     unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins words with spaces
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
        eos_token="</s>")
    config = LlamaConfig(vocab_size=spec["vocab"], hidden_size=spec["hidden"],
                         num_hidden_layers=spec["layers"], num_attention_heads=spec["heads"],
                         num_key_value_heads=spec["kv_heads"],
                         intermediate_size=spec["intermediate"],
                         max_position_embeddings=spec["max_positions"], bos_token_id=2,
                         eos_token_id=3, pad_token_id=1)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def text(n: int, rng: np.random.Generator, vocab: int) -> str:
    """``n`` random words, ``n`` tokens."""
    return " ".join(f"w{i}" for i in rng.integers(0, vocab - len(SPECIALS), size=n))


def timed(lm: LocalModel, req: GenerationRequest) -> tuple[float, Any]:
    """Milliseconds for one call (CUDA synchronised) and the generation."""
    if lm.device.type == "cuda":
        torch.cuda.synchronize(lm.device)
    t0 = time.perf_counter()
    g = lm.generate(req)
    if lm.device.type == "cuda":
        torch.cuda.synchronize(lm.device)
    return (time.perf_counter() - t0) * 1e3, g


def measure(folder: Path, prefix: int, args: argparse.Namespace, vocab: int,
            seed: int) -> dict[str, Any]:
    """Warm-up plus timed calls in both modes at one prefix size."""
    rng = np.random.default_rng(seed)
    system = text(prefix, rng, vocab)
    requests = [GenerationRequest(system=system, context=text(args.context, rng, vocab),
                                  max_new_tokens=args.new_tokens) for _ in range(args.reps + 1)]
    row: dict[str, Any] = {"prefix_tokens": prefix}
    answers: dict[str, list[str]] = {}
    for mode in ("cached", "uncached"):
        lm = LocalModel(str(folder), device=args.device, prefix_cache=mode == "cached",
                        chat_template=False)
        first_ms, g = timed(lm, requests[0])
        row[f"{mode}_first_call_ms"] = first_ms
        if mode == "cached":
            row["prefill_s"] = lm.last_prefill_seconds
            row["prompt_tokens"] = g.prompt_tokens
        times, prompt, answers[mode], new = [], [], [g.text], [g.new_tokens]
        start = time.perf_counter()
        for req in requests[1:]:
            ms, g = timed(lm, req)
            times.append(ms)
            prompt.append(g.meta["prompt_seconds"] * 1e3)
            answers[mode].append(g.text)
            new.append(g.new_tokens)
            if mode == "cached":
                assert g.cached_tokens == prefix, (g.cached_tokens, prefix)
            if time.perf_counter() - start > args.budget:
                break
        row[f"{mode}_ms"] = statistics.median(times)
        row[f"{mode}_all_ms"] = times
        row[f"{mode}_prompt_ms"] = statistics.median(prompt)
        row[f"{mode}_new_tokens"] = new
        lm.close()
        del lm
    n = min(len(answers["cached"]), len(answers["uncached"]))
    row["outputs_match"] = answers["cached"][:n] == answers["uncached"][:n]
    row["speedup"] = row["uncached_ms"] / row["cached_ms"]
    row["prompt_speedup"] = row["uncached_prompt_ms"] / row["cached_prompt_ms"]
    row["decode_ms_per_token"] = ((row["cached_ms"] - row["cached_prompt_ms"])
                                  / max(1.0, statistics.median(row["cached_new_tokens"])))
    return row


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> Path:
    """Milliseconds per call against the prefix length, both modes, log-log."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    xs = [r["prefix_tokens"] for r in rows]
    for mode, colour in (("uncached", "#c44e52"), ("cached", "#4c72b0")):
        ax.plot(xs, [r[f"{mode}_ms"] for r in rows], "o-", color=colour,
                label=f"{mode} ({'prefix KV reused' if mode == 'cached' else 'whole prompt'})")
        ax.plot(xs, [r[f"{mode}_prompt_ms"] for r in rows], "s--", color=colour, alpha=0.6,
                label=f"{mode}, prompt only (to first token)")
    for r in rows:
        ax.annotate(f"{r['speedup']:.1f}x", (r["prefix_tokens"], r["cached_ms"]),
                    textcoords="offset points", xytext=(0, -14), ha="center", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels([str(x) for x in xs])
    ax.set_xlabel("system prefix (tokens)")
    ax.set_ylabel("ms per planner call (median)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny model, prefixes 64 and 256")
    ap.add_argument("--prefixes", type=int, nargs="+", default=None, help="system tokens")
    ap.add_argument("--context", type=int, default=None, help="memory context tokens (200)")
    ap.add_argument("--new-tokens", type=int, default=None, help="tokens generated (24)")
    ap.add_argument("--reps", type=int, default=None, help="timed calls per mode (5)")
    ap.add_argument("--budget", type=float, default=120.0,
                    help="seconds of timed calls per mode and prefix before stopping early")
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    q = args.quick
    prefixes = args.prefixes or ([64, 256] if q else PREFIXES)
    args.context = args.context or (32 if q else 200)
    args.new_tokens = args.new_tokens or (8 if q else 24)
    args.reps = args.reps or (2 if q else 5)
    spec = TINY if q else FULL
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="planner_cache_") as tmp:
        folder = Path(tmp)
        params = save_model(folder, spec, args.seed)
        warm = LocalModel(str(folder), device=args.device, chat_template=False)
        device = str(warm.device)
        # The process's first forward passes pay one-off kernel set-up; keep it out of prefill_s.
        warm.generate(GenerationRequest(system=text(64, np.random.default_rng(99), spec["vocab"]),
                                        context="w1 w2", max_new_tokens=2))
        del warm
        print(f"random Llama, {params / 1e6:.1f}M parameters, {device}, "
              f"{torch.get_num_threads()} threads")
        for i, prefix in enumerate(prefixes):
            rows.append(measure(folder, prefix, args, spec["vocab"], args.seed + i))
            r = rows[-1]
            print(f"prefix {prefix:>5}: cached {r['cached_ms']:8.1f} ms, uncached "
                  f"{r['uncached_ms']:8.1f} ms, {r['speedup']:5.1f}x, prefill "
                  f"{r['prefill_s']:.2f} s, match {r['outputs_match']}", flush=True)
    at_2k = next((r for r in rows if r["prefix_tokens"] == 2048), None)
    targets = {"speedup_at_2k": at_2k["speedup"] if at_2k else None,
               "prompt_speedup_at_2k": at_2k["prompt_speedup"] if at_2k else None,
               "speedup_at_2k_ge_5": (at_2k["speedup"] >= TARGET_SPEEDUP_AT_2K)
               if at_2k else None,
               "outputs_match": all(r["outputs_match"] for r in rows)}
    print("\n| prefix | ms/call cached | ms/call uncached | speedup | prompt ms cached | "
          "prompt ms uncached | prompt speedup | decode ms/token | prefill s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['prefix_tokens']} | {r['cached_ms']:.0f} | {r['uncached_ms']:.0f} | "
              f"{r['speedup']:.1f}x | {r['cached_prompt_ms']:.0f} | "
              f"{r['uncached_prompt_ms']:.0f} | {r['prompt_speedup']:.1f}x | "
              f"{r['decode_ms_per_token']:.1f} | {r['prefill_s']:.2f} |")
    print(f"targets: {targets}")
    config = {"quick": q, "prefixes": prefixes, "context_tokens": args.context,
              "new_tokens": args.new_tokens, "reps": args.reps, "budget_s": args.budget,
              "model": {**spec, "parameters": params}, "device": device,
              "threads": torch.get_num_threads(), "seed": args.seed, "load": os.getloadavg()}
    data = {"config": config, "results": rows, "targets": targets,
            "seconds": time.perf_counter() - t0}
    path = write_json("planner_cache", data, args.out)
    title = (f"Planner call, random Llama {params / 1e6:.0f}M, {device}: context "
             f"{args.context} + {args.new_tokens} new tokens")
    plot(rows, args.out / "planner_cache.png", title)
    print(f"wrote {path} and {args.out / 'planner_cache.png'}")
    return data


if __name__ == "__main__":
    main()

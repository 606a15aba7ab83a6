"""Hierarchical chunk attention (HCAM): recall from a long memory by chunks, then by steps.

After Lampinen et al. 2021, "Towards mental time travel: a hierarchical memory for
reinforcement learning agents". The stored memory ``(batch, T, d_model)`` is cut into chunks of
``chunk_size`` consecutive steps, and each chunk is summarised by the mean of its steps. A query
first scores every chunk summary (bias-free query/key projections, scaled dot product), keeps
the ``top_k`` most relevant chunks and takes a softmax over those ``k`` logits only. It then
attends, with multi-head attention, within each selected chunk (sinusoidal position encodings
added to the chunk's steps), and the per-chunk results are summed, weighted by the chunk
relevance weights. The memory is detached: no gradient ever flows into it.

When ``T`` is not a multiple of ``chunk_size`` the last chunk is padded with zeros and the
padding is masked: it is left out of that chunk's mean and can never be attended to.

Example:
    >>> import torch
    >>> from robomem.memory.hcam import HCAM
    >>> _ = torch.manual_seed(0)
    >>> hcam = HCAM(d_model=8, n_heads=2, chunk_size=4, top_k=2)
    >>> queries, memory = torch.randn(3, 5, 8), torch.randn(3, 10, 8)  # 10 steps -> 3 chunks
    >>> out = hcam(queries, memory)
    >>> tuple(out.shape), tuple(hcam.attend(queries, memory).chunk_indices.shape)
    ((3, 5, 8), (3, 5, 2))
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

__all__ = ["HCAM", "HCAMBlock", "HCAMOutput", "sinusoidal_positions"]


def sinusoidal_positions(length: int, d_model: int) -> Tensor:
    """The sinusoidal position encodings of Vaswani et al. 2017.

    Args:
        length: number of positions.
        d_model: encoding width (odd widths are allowed).

    Returns:
        ``(length, d_model)`` float tensor: ``sin`` on even, ``cos`` on odd features.

    Raises:
        ValueError: ``length`` or ``d_model`` is below 1.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if d_model < 1:
        raise ValueError(f"d_model must be >= 1, got {d_model}")
    pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(
        torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model)
    )
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: d_model // 2])
    return pe


class HCAMOutput(NamedTuple):
    """What :meth:`HCAM.attend` returns.

    Attributes:
        output: ``(B, Q, d_model)`` the recalled values.
        chunk_indices: ``(B, Q, k)`` long, the selected chunks per query, most relevant first
            (``k = min(top_k, n_chunks)``).
        chunk_weights: ``(B, Q, k)`` the softmax relevance weights of those chunks; they sum to
            1 per query, except that a selected chunk forbidden by the mask has weight 0 (and a
            query with no allowed chunk at all has all weights 0 and output 0).
    """

    output: Tensor
    chunk_indices: Tensor
    chunk_weights: Tensor


class HCAM(nn.Module):
    """Hierarchical chunk attention over a detached memory.

    Args:
        d_model: feature width of queries and memory.
        n_heads: attention heads of the within-chunk attention; must divide ``d_model``.
        chunk_size: steps per chunk (``C``).
        top_k: chunks recalled per query (clamped to the number of chunks at run time).
        dropout: dropout on the within-chunk attention weights.

    Raises:
        ValueError: a size below 1, ``d_model`` not divisible by ``n_heads``, or ``dropout``
            outside ``[0, 1)``.
    """

    def __init__(
        self, d_model: int, n_heads: int, chunk_size: int, top_k: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if d_model < 1:
            raise ValueError(f"d_model must be >= 1, got {d_model}")
        if n_heads < 1:
            raise ValueError(f"n_heads must be >= 1, got {n_heads}")
        if d_model % n_heads != 0:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.d_model = d_model
        self.n_heads = n_heads
        self.chunk_size = chunk_size
        self.top_k = top_k
        self.d_key = d_model
        self.query_proj = nn.Linear(d_model, self.d_key, bias=False)
        self.key_proj = nn.Linear(d_model, self.d_key, bias=False)
        self.attention = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.positions: Tensor
        self.register_buffer(
            "positions", sinusoidal_positions(chunk_size, d_model), persistent=False
        )

    def n_chunks(self, memory_length: int) -> int:
        """Chunks a memory of ``memory_length`` steps is cut into (the last may be padded)."""
        return -(-memory_length // self.chunk_size)

    def _check(self, queries: Tensor, memory: Tensor, chunk_mask: Tensor | None) -> None:
        if queries.dim() != 3:
            raise ValueError(f"queries must be (B, Q, d_model), got shape {tuple(queries.shape)}")
        if memory.dim() != 3:
            raise ValueError(f"memory must be (B, T, d_model), got shape {tuple(memory.shape)}")
        if queries.shape[-1] != self.d_model or memory.shape[-1] != self.d_model:
            raise ValueError(
                f"feature width must be d_model={self.d_model}, got queries "
                f"{tuple(queries.shape)} and memory {tuple(memory.shape)}"
            )
        if queries.shape[0] != memory.shape[0]:
            raise ValueError(
                f"batch sizes differ: queries {queries.shape[0]}, memory {memory.shape[0]}"
            )
        if memory.shape[1] < 1:
            raise ValueError(f"memory must hold at least one step, got shape {tuple(memory.shape)}")
        if chunk_mask is not None:
            want = (queries.shape[0], queries.shape[1], self.n_chunks(memory.shape[1]))
            if tuple(chunk_mask.shape) != want:
                raise ValueError(
                    f"chunk_mask must have shape (B, Q, n_chunks)={want}, "
                    f"got {tuple(chunk_mask.shape)}"
                )
            if chunk_mask.dtype != torch.bool:
                raise ValueError(f"chunk_mask must be bool, got {chunk_mask.dtype}")

    def attend(
        self, queries: Tensor, memory: Tensor, chunk_mask: Tensor | None = None
    ) -> HCAMOutput:
        """Recall from ``memory`` for every query, and say which chunks were used.

        Args:
            queries: ``(B, Q, d_model)``.
            memory: ``(B, T, d_model)``; detached here, so it never receives gradient.
            chunk_mask: optional ``(B, Q, n_chunks)`` bool, True where a query may recall the
                chunk (causality, or no recall across episodes). Forbidden chunks get ``-inf``
                relevance, are only selected when fewer than ``k`` chunks are allowed, and then
                have weight 0: they never affect the output nor the gradients.

        Returns:
            An :class:`HCAMOutput` (output ``(B, Q, d_model)``, chunk indices and weights
            ``(B, Q, k)``).

        Raises:
            ValueError: wrong ranks, widths, batch sizes, or mask shape/dtype.
        """
        self._check(queries, memory, chunk_mask)
        memory = memory.detach()
        b, q, d = queries.shape
        t, c = memory.shape[1], self.chunk_size
        n = self.n_chunks(t)
        k = min(self.top_k, n)
        pad = n * c - t

        # Chunks (B, N, C, d) and which of their steps are real (N, C).
        valid_steps = torch.arange(n * c, device=memory.device) < t
        if pad:
            memory = torch.cat([memory, memory.new_zeros(b, pad, d)], dim=1)
        chunks = memory.reshape(b, n, c, d)
        valid_steps = valid_steps.reshape(n, c)

        # Stage 1: chunk relevance from mean-pooled summaries (unpadded steps only).
        counts = valid_steps.sum(dim=1).to(memory.dtype)  # (N,)
        summaries = chunks.sum(dim=2) / counts[None, :, None]  # padding is zero: (B, N, d)
        logits = self.query_proj(queries) @ self.key_proj(summaries).transpose(1, 2)
        logits = logits / math.sqrt(self.d_key)  # (B, Q, N)
        if chunk_mask is not None:
            logits = logits.masked_fill(~chunk_mask, float("-inf"))
        top_logits, top_idx = logits.topk(k, dim=-1)  # (B, Q, k)
        allowed = torch.isfinite(top_logits)
        any_allowed = allowed.any(dim=-1, keepdim=True)
        safe_logits = torch.where(any_allowed, top_logits, torch.zeros_like(top_logits))
        weights = torch.softmax(safe_logits, dim=-1) * allowed.to(safe_logits.dtype)

        # Stage 2: multi-head attention of each query within each of its selected chunks.
        flat_idx = top_idx.reshape(b, q * k)
        selected = torch.gather(
            chunks, 1, flat_idx[:, :, None, None].expand(b, q * k, c, d)
        )  # (B, Q*k, C, d)
        selected = (selected + self.positions.to(selected.dtype)).reshape(b * q * k, c, d)
        ignore = ~valid_steps[flat_idx].reshape(b * q * k, c)  # True = padding
        query_rep = queries[:, :, None, :].expand(b, q, k, d).reshape(b * q * k, 1, d)
        per_chunk, _ = self.attention(
            query_rep, selected, selected, key_padding_mask=ignore, need_weights=False
        )
        per_chunk = per_chunk.reshape(b, q, k, d).masked_fill(~allowed[..., None], 0.0)
        output = (weights[..., None] * per_chunk).sum(dim=2)
        return HCAMOutput(output, top_idx, weights)

    def forward(self, queries: Tensor, memory: Tensor, chunk_mask: Tensor | None = None) -> Tensor:
        """Recall from ``memory`` for every query.

        Args:
            queries: ``(B, Q, d_model)``.
            memory: ``(B, T, d_model)`` (detached; never receives gradient).
            chunk_mask: optional ``(B, Q, n_chunks)`` bool, True = the chunk may be recalled.

        Returns:
            ``(B, Q, d_model)``. Use :meth:`attend` for the selected chunks and weights too.
        """
        return self.attend(queries, memory, chunk_mask).output


class HCAMBlock(nn.Module):
    """Pre-norm residual block: ``x + HCAM(LN(x), memory)``, then optionally ``x + FF(LN(x))``.

    Args:
        d_model: feature width.
        n_heads: attention heads; must divide ``d_model``.
        chunk_size: steps per memory chunk.
        top_k: chunks recalled per query.
        dropout: dropout on attention weights and on each residual branch.
        ff_dim: hidden width of the feed-forward sub-block (GELU); ``None`` for no sub-block.

    Raises:
        ValueError: as :class:`HCAM`, or ``ff_dim`` below 1.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        chunk_size: int,
        top_k: int,
        dropout: float = 0.0,
        ff_dim: int | None = None,
    ) -> None:
        super().__init__()
        if ff_dim is not None and ff_dim < 1:
            raise ValueError(f"ff_dim must be >= 1 or None, got {ff_dim}")
        self.norm = nn.LayerNorm(d_model)
        self.hcam = HCAM(d_model, n_heads, chunk_size, top_k, dropout)
        self.dropout = nn.Dropout(dropout)
        self.ff: nn.Sequential | None = None
        self.ff_norm: nn.LayerNorm | None = None
        if ff_dim is not None:
            self.ff_norm = nn.LayerNorm(d_model)
            self.ff = nn.Sequential(
                nn.Linear(d_model, ff_dim),
                nn.GELU(),
                nn.Dropout(dropout),
                nn.Linear(ff_dim, d_model),
            )

    def forward(self, x: Tensor, memory: Tensor, chunk_mask: Tensor | None = None) -> Tensor:
        """Apply the block.

        Args:
            x: ``(B, Q, d_model)`` the queries (e.g. the agent's current states).
            memory: ``(B, T, d_model)`` (detached; not normalised here).
            chunk_mask: optional ``(B, Q, n_chunks)`` bool, True = the chunk may be recalled.

        Returns:
            ``(B, Q, d_model)``.
        """
        x = x + self.dropout(self.hcam(self.norm(x), memory, chunk_mask))
        if self.ff is not None and self.ff_norm is not None:
            x = x + self.dropout(self.ff(self.ff_norm(x)))
        return x

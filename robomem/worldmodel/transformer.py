"""A causal (decoder-only) transformer backbone with episode resets and a KV cache.

:class:`CausalTransformer` stacks pre-norm blocks (causal multi-head self-attention + MLP)
behind the same interface as :class:`~robomem.worldmodel.ssm.SSMBackbone`:

* :meth:`CausalTransformer.forward` runs a whole ``(B, L, d_model)`` sequence (training);
* :meth:`CausalTransformer.step` advances one token, carrying a :class:`KVCache`, so
  step-by-step imagination costs one new token per step.

Both honour episode resets: ``resets[b, t] = True`` forbids step ``t`` (and every later step of
row ``b``) from attending to steps ``< t``, and restarts the learned position index at 0. The
attention mask is therefore block-diagonal causal per episode.

Example:
    >>> import torch
    >>> from robomem.worldmodel.transformer import CausalTransformer
    >>> _ = torch.manual_seed(0)
    >>> model = CausalTransformer(d_model=8, n_layers=2, n_heads=2, max_len=16).eval()
    >>> x = torch.randn(2, 5, 8)
    >>> y = model(x)
    >>> cache = model.init_state(2)
    >>> steps = []
    >>> for t in range(5):
    ...     y_t, cache = model.step(x[:, t], cache)
    ...     steps.append(y_t)
    >>> tuple(y.shape), cache.length, torch.allclose(torch.stack(steps, dim=1), y, atol=1e-5)
    ((2, 5, 8), 5, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from robomem.worldmodel.backbone import Backbone

__all__ = ["CausalTransformer", "KVCache"]


@dataclass
class KVCache:
    """Incremental-decoding state of a :class:`CausalTransformer`.

    Attributes:
        keys: per-layer cached keys, each of shape ``(B, n_heads, t, d_head)``.
        values: per-layer cached values, each of shape ``(B, n_heads, t, d_head)``.
        start: cache index of each row's current episode start, shape ``(B,)``, int64.
            Cached steps before it are masked out.
        pos: position index the next token of each row gets, shape ``(B,)``, int64.
    """

    keys: list[Tensor]
    values: list[Tensor]
    start: Tensor
    pos: Tensor

    @property
    def length(self) -> int:
        """Number of cached steps ``t``."""
        return int(self.keys[0].shape[2]) if self.keys else 0

    @property
    def batch_size(self) -> int:
        """Batch size ``B``."""
        return int(self.start.shape[0])

    def detach(self) -> KVCache:
        """A copy cut from the autograd graph (for truncated backprop through time)."""
        return KVCache(
            keys=[k.detach() for k in self.keys],
            values=[v.detach() for v in self.values],
            start=self.start.clone(),
            pos=self.pos.clone(),
        )


def _positive_int(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


class _Block(nn.Module):
    """One pre-norm block: ``x + attn(ln1(x))`` then ``x + mlp(ln2(x))``."""

    def __init__(self, d_model: int, n_heads: int, ff_mult: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.dropout = dropout
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, ff_mult * d_model),
            nn.GELU(),
            nn.Linear(ff_mult * d_model, d_model),
        )
        self.drop = nn.Dropout(dropout)

    def _heads(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(B, L, d)`` -> q, k, v each ``(B, H, L, d_head)``."""
        bsz, length, _ = x.shape
        qkv = self.qkv(x).view(bsz, length, 3, self.n_heads, self.d_head)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        return q, k, v

    def _attend(self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor) -> Tensor:
        """Masked attention; ``mask`` is bool ``(B, 1, Lq, Lk)``, True = may attend."""
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        bsz, _, length, _ = out.shape
        y: Tensor = self.proj(out.transpose(1, 2).reshape(bsz, length, -1))
        return y

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        q, k, v = self._heads(self.ln1(x))
        x = x + self.drop(self._attend(q, k, v, mask))
        out: Tensor = x + self.drop(self.mlp(self.ln2(x)))
        return out

    def step(
        self, x_t: Tensor, k_cache: Tensor, v_cache: Tensor, mask: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One token ``(B, d)``; returns the output and the caches extended by one step."""
        q, k, v = self._heads(self.ln1(x_t)[:, None])
        k_all = torch.cat([k_cache, k], dim=2)
        v_all = torch.cat([v_cache, v], dim=2)
        x = x_t[:, None] + self.drop(self._attend(q, k_all, v_all, mask))
        out: Tensor = x + self.drop(self.mlp(self.ln2(x)))
        return out[:, 0], k_all, v_all


class CausalTransformer(Backbone[KVCache]):
    """A pre-norm decoder-only transformer with learned positions and a final LayerNorm.

    Args:
        d_model: model width, >= 1 and divisible by ``n_heads``.
        n_layers: number of blocks, >= 1.
        n_heads: attention heads per block, >= 1.
        max_len: number of learned positions; an episode may be at most this long.
        ff_mult: MLP hidden width is ``ff_mult * d_model``.
        dropout: dropout probability in ``[0, 1)`` (embeddings, attention, residual branches).

    Raises:
        ValueError: on a bad argument (e.g. ``d_model`` not divisible by ``n_heads``).
    """

    def __init__(
        self,
        d_model: int,
        n_layers: int,
        n_heads: int,
        max_len: int = 2048,
        ff_mult: int = 4,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.d_model = _positive_int("d_model", d_model)
        self.n_layers = _positive_int("n_layers", n_layers)
        self.n_heads = _positive_int("n_heads", n_heads)
        self.max_len = _positive_int("max_len", max_len)
        self.ff_mult = _positive_int("ff_mult", ff_mult)
        if d_model % n_heads != 0:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.d_head = d_model // n_heads
        self.pos_emb = nn.Embedding(max_len, d_model)
        nn.init.normal_(self.pos_emb.weight, std=0.02)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            [_Block(d_model, n_heads, ff_mult, dropout) for _ in range(n_layers)]
        )
        self.norm_f = nn.LayerNorm(d_model)

    def _layers(self) -> list[_Block]:
        return [b for b in self.blocks]  # type: ignore[misc]

    def init_state(
        self, batch: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> KVCache:
        """An empty cache (``t = 0``) for ``batch`` rows.

        Raises:
            ValueError: if ``batch < 1``.
        """
        _positive_int("batch", batch)
        dtype = dtype if dtype is not None else self.norm_f.weight.dtype
        device = device if device is not None else self.norm_f.weight.device
        empty = [
            torch.zeros(batch, self.n_heads, 0, self.d_head, device=device, dtype=dtype)
            for _ in range(self.n_layers)
        ]
        zeros = torch.zeros(batch, dtype=torch.long, device=device)
        return KVCache(
            keys=empty, values=[e.clone() for e in empty], start=zeros, pos=zeros.clone()
        )

    def forward(self, x: Tensor, resets: Tensor | None = None) -> Tensor:
        """Run a whole sequence.

        Args:
            x: inputs, shape ``(B, L, d_model)``.
            resets: optional bool ``(B, L)``; True at ``t`` starts a new episode in that row.

        Returns:
            Outputs, shape ``(B, L, d_model)``.

        Raises:
            ValueError: on a bad shape, or an episode longer than ``max_len``.
        """
        if x.dim() != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"x must have shape (B, L, {self.d_model}), got {tuple(x.shape)}")
        bsz, length, _ = x.shape
        if resets is None:
            resets = torch.zeros(bsz, length, dtype=torch.bool, device=x.device)
        elif resets.shape != (bsz, length):
            raise ValueError(f"resets must have shape ({bsz}, {length}), got {tuple(resets.shape)}")
        resets = resets.to(device=x.device, dtype=torch.bool)
        t = torch.arange(length, device=x.device)
        # start[b, t] = index of the last reset at or before t (0 if none).
        start = torch.where(resets, t, torch.zeros_like(t)).cummax(dim=1).values  # (B, L)
        pos = t - start  # (B, L)
        if length > 0 and int(pos.max()) >= self.max_len:
            raise ValueError(
                f"episode of length {int(pos.max()) + 1} exceeds max_len {self.max_len}"
            )
        causal = t[None, :] <= t[:, None]  # (L, L): key j <= query i
        mask = causal[None] & (t[None, None, :] >= start[:, :, None])  # (B, L, L)
        mask = mask[:, None]  # (B, 1, L, L)
        h = self.drop(x + self.pos_emb(pos))
        for block in self._layers():
            h = block(h, mask)
        out: Tensor = self.norm_f(h)
        return out

    def step(
        self,
        x_t: Tensor,
        cache: KVCache | None = None,
        resets: Tensor | None = None,
    ) -> tuple[Tensor, KVCache]:
        """Advance one step, attending to the cached keys/values of the current episode.

        Args:
            x_t: input at this step, shape ``(B, d_model)``.
            cache: the cache from the previous step, or None to start fresh.
            resets: optional bool ``(B,)``; True starts a new episode in that row here.

        Returns:
            The output ``(B, d_model)`` and the cache grown by one step.

        Raises:
            ValueError: on a bad shape, a cache that does not match, or an episode longer
                than ``max_len``.
        """
        if x_t.dim() != 2 or x_t.shape[-1] != self.d_model:
            raise ValueError(f"x_t must have shape (B, {self.d_model}), got {tuple(x_t.shape)}")
        bsz = x_t.shape[0]
        if cache is None:
            cache = self.init_state(bsz, x_t.device, x_t.dtype)
        if len(cache.keys) != self.n_layers or len(cache.values) != self.n_layers:
            raise ValueError(
                f"cache must hold {self.n_layers} layers, got {len(cache.keys)} keys and "
                f"{len(cache.values)} values"
            )
        if cache.batch_size != bsz:
            raise ValueError(f"cache batch size {cache.batch_size} does not match x_t ({bsz})")
        t_now = cache.length
        start, pos = cache.start, cache.pos
        if resets is not None:
            if resets.shape != (bsz,):
                raise ValueError(f"resets must have shape ({bsz},), got {tuple(resets.shape)}")
            r = resets.to(device=start.device, dtype=torch.bool)
            start = torch.where(r, torch.full_like(start, t_now), start)
            pos = torch.where(r, torch.zeros_like(pos), pos)
        if bsz > 0 and int(pos.max()) >= self.max_len:
            raise ValueError(
                f"episode of length {int(pos.max()) + 1} exceeds max_len {self.max_len}"
            )
        j = torch.arange(t_now + 1, device=x_t.device)
        mask = (j[None, :] >= start[:, None].to(x_t.device))[:, None, None, :]  # (B, 1, 1, t+1)
        h = self.drop(x_t + self.pos_emb(pos.to(x_t.device)))
        keys: list[Tensor] = []
        values: list[Tensor] = []
        for block, k_c, v_c in zip(self._layers(), cache.keys, cache.values):
            h, k_new, v_new = block.step(h, k_c, v_c, mask)
            keys.append(k_new)
            values.append(v_new)
        out: Tensor = self.norm_f(h)
        return out, KVCache(keys=keys, values=values, start=start, pos=pos + 1)

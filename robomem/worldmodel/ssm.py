"""Selective state-space (Mamba-style) blocks: a recurrent backbone for world models.

:class:`SelectiveSSM` is one Mamba block (Gu & Dao, 2023): an input projection to ``x`` and a
gate ``z``, a causal depthwise conv over time on ``x``, SiLU, an input-dependent step size
``delta`` and input-dependent ``B``/``C``, a diagonal ``A = -exp(A_log)`` (S4D-real init), a
``D`` skip, SiLU(z) gating and an output projection. It has two paths that agree to float
precision:

* :meth:`SelectiveSSM.forward` runs a whole ``(B, L, d_model)`` sequence at once (training),
  with a chunked parallel scan (or the sequential reference scan);
* :meth:`SelectiveSSM.step` advances one step in O(1), carrying an :class:`SSMState`.

Both honour episode resets: ``resets[b, t] = True`` zeroes the hidden state and the conv history
of row ``b`` before step ``t`` is processed. :class:`SSMBackbone` stacks pre-norm residual
blocks behind the same interface.

Example:
    >>> import torch
    >>> from robomem.worldmodel.ssm import SelectiveSSM
    >>> _ = torch.manual_seed(0)
    >>> ssm = SelectiveSSM(d_model=8, d_state=4)
    >>> x = torch.randn(2, 5, 8)
    >>> y = ssm(x)
    >>> state = ssm.init_state(2)
    >>> steps = []
    >>> for t in range(5):
    ...     y_t, state = ssm.step(x[:, t], state)
    ...     steps.append(y_t)
    >>> tuple(y.shape), torch.allclose(torch.stack(steps, dim=1), y, atol=1e-5)
    ((2, 5, 8), True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "SSMBackbone",
    "SSMState",
    "SelectiveSSM",
    "fused_scan",
    "selective_scan_chunked",
    "selective_scan_sequential",
]


@dataclass
class SSMState:
    """Recurrent state of one :class:`SelectiveSSM` block.

    Attributes:
        conv: the last ``d_conv - 1`` conv inputs, oldest first, shape
            ``(B, d_inner, d_conv - 1)``.
        ssm: the selective-scan hidden state, shape ``(B, d_inner, d_state)``.
    """

    conv: Tensor
    ssm: Tensor

    @property
    def batch_size(self) -> int:
        """Number of batch rows."""
        return int(self.ssm.shape[0])

    def reset(self, mask: Tensor) -> SSMState:
        """Zero the rows where ``mask`` is True (a new episode starts there).

        Args:
            mask: bool tensor of shape ``(B,)``.

        Returns:
            A new :class:`SSMState` (the tensors are not modified in place, so it is safe
            under autograd).

        Raises:
            ValueError: if ``mask`` is not of shape ``(B,)``.
        """
        if mask.shape != (self.batch_size,):
            raise ValueError(
                f"reset mask must have shape ({self.batch_size},), got {tuple(mask.shape)}"
            )
        keep = (~mask.to(device=self.ssm.device, dtype=torch.bool)).to(self.ssm.dtype)
        return SSMState(conv=self.conv * keep[:, None, None], ssm=self.ssm * keep[:, None, None])

    def detach(self) -> SSMState:
        """A copy cut from the autograd graph (for truncated backprop through time)."""
        return SSMState(conv=self.conv.detach(), ssm=self.ssm.detach())


def selective_scan_sequential(
    log_a: Tensor, u: Tensor, c: Tensor, resets: Tensor, h0: Tensor
) -> tuple[Tensor, Tensor]:
    """Reference scan ``h_t = exp(log_a_t) * (1 - r_t) * h_{t-1} + u_t``, ``y_t = h_t . c_t``.

    Args:
        log_a: log decay, shape ``(B, L, d_inner, d_state)`` (``delta * A``).
        u: input term ``delta * B * x``, shape ``(B, L, d_inner, d_state)``.
        c: readout, shape ``(B, L, d_state)``.
        resets: bool, shape ``(B, L)``.
        h0: initial state, shape ``(B, d_inner, d_state)``.

    Returns:
        ``y`` of shape ``(B, L, d_inner)`` and the final state ``(B, d_inner, d_state)``.
    """
    h = h0
    keep = (~resets).to(u.dtype)
    ys = []
    for t in range(u.shape[1]):
        h = torch.exp(log_a[:, t]) * keep[:, t, None, None] * h + u[:, t]
        ys.append(torch.einsum("bdn,bn->bd", h, c[:, t]))
    return torch.stack(ys, dim=1), h


def selective_scan_chunked(
    log_a: Tensor, u: Tensor, c: Tensor, resets: Tensor, h0: Tensor, chunk_size: int = 32
) -> tuple[Tensor, Tensor]:
    """Chunked parallel form of :func:`selective_scan_sequential` (same arguments and result).

    The recurrence ``h_t = a_t * h_{t-1} + u_t`` (``a_t = exp(log_a_t)``, zero at a reset) is
    associative in the pairs ``(a, u)``. Inside each chunk all states are computed together
    by a log-depth (Hillis-Steele) scan over those pairs: ``ceil(log2 chunk_size)`` rounds of
    elementwise products, with no exponentials of sums, so it is as stable as the loop.
    Chunks run in turn, carrying the state, so memory is
    ``O(B * chunk_size * d_inner * d_state)`` per round.

    Args:
        log_a: log decay, shape ``(B, L, d_inner, d_state)``.
        u: input term, shape ``(B, L, d_inner, d_state)``.
        c: readout, shape ``(B, L, d_state)``.
        resets: bool, shape ``(B, L)``.
        h0: initial state, shape ``(B, d_inner, d_state)``.
        chunk_size: steps per chunk (>= 1).

    Returns:
        ``y`` of shape ``(B, L, d_inner)`` and the final state ``(B, d_inner, d_state)``.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    keep = (~resets).to(u.dtype)[..., None, None]
    h = h0
    ys = []
    for start in range(0, u.shape[1], chunk_size):
        stop = min(start + chunk_size, u.shape[1])
        a = torch.exp(log_a[:, start:stop]) * keep[:, start:stop]
        b = u[:, start:stop]
        b = torch.cat([a[:, :1] * h[:, None] + b[:, :1], b[:, 1:]], dim=1)  # carry the state in
        k = 1
        while k < stop - start:  # after the round with offset k, b_t sums 2k steps back
            b = torch.cat([b[:, :k], a[:, k:] * b[:, :-k] + b[:, k:]], dim=1)
            a = torch.cat([a[:, :k], a[:, k:] * a[:, :-k]], dim=1)
            k *= 2
        ys.append(torch.einsum("btdn,btn->btd", b, c[:, start:stop]))
        h = b[:, -1]
    return torch.cat(ys, dim=1), h


class SelectiveSSM(nn.Module):
    """One Mamba block with a parallel :meth:`forward` and an O(1) recurrent :meth:`step`.

    Args:
        d_model: model (input and output) width, >= 1.
        d_state: SSM state size per channel, >= 1.
        expand: inner width multiplier; ``d_inner = expand * d_model``.
        d_conv: causal depthwise conv kernel length, >= 1.
        dt_rank: rank of the delta projection; ``"auto"`` is ``ceil(d_model / 16)``.
        chunk_size: chunk length of the parallel scan in :meth:`forward`.
        scan: ``"chunked"`` (parallel, default) or ``"sequential"`` (reference loop).
        fused: use the fused CUDA selective-scan kernel of the ``mamba_ssm`` package in
            :meth:`forward` when it is installed, the input is on a CUDA device and no episode
            resets inside the sequence (the kernel has no resets); ``False`` always uses the
            pure-torch scan. Both give the same result (tested under the ``gpu`` marker).
        dt_min: smallest initial step size.
        dt_max: largest initial step size.

    Raises:
        ValueError: on a non-positive size, an unknown ``scan`` or a bad ``dt_rank``.
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        expand: int = 2,
        d_conv: int = 4,
        dt_rank: int | str = "auto",
        chunk_size: int = 32,
        scan: str = "chunked",
        fused: bool = True,
        dt_min: float = 1e-3,
        dt_max: float = 0.1,
    ) -> None:
        super().__init__()
        for name, value in (
            ("d_model", d_model),
            ("d_state", d_state),
            ("expand", expand),
            ("d_conv", d_conv),
            ("chunk_size", chunk_size),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if scan not in ("chunked", "sequential"):
            raise ValueError(f"scan must be 'chunked' or 'sequential', got {scan!r}")
        if dt_rank == "auto":
            rank = math.ceil(d_model / 16)
        elif isinstance(dt_rank, int) and not isinstance(dt_rank, bool) and dt_rank >= 1:
            rank = dt_rank
        else:
            raise ValueError(f"dt_rank must be 'auto' or an int >= 1, got {dt_rank!r}")
        if not 0.0 < dt_min <= dt_max:
            raise ValueError(f"need 0 < dt_min <= dt_max, got dt_min={dt_min}, dt_max={dt_max}")
        self.d_model = d_model
        self.d_state = d_state
        self.d_conv = d_conv
        self.d_inner = expand * d_model
        self.dt_rank = rank
        self.chunk_size = chunk_size
        self.scan = scan
        self.fused = bool(fused)

        self.in_proj = nn.Linear(d_model, 2 * self.d_inner)
        self.conv_weight = nn.Parameter(torch.empty(self.d_inner, d_conv))
        self.conv_bias = nn.Parameter(torch.zeros(self.d_inner))
        bound = 1.0 / math.sqrt(d_conv)
        nn.init.uniform_(self.conv_weight, -bound, bound)
        self.x_proj = nn.Linear(self.d_inner, rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(rank, self.d_inner)
        nn.init.uniform_(self.dt_proj.weight, -(rank**-0.5), rank**-0.5)
        dt = torch.exp(
            torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        )
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        a = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(self.d_inner, 1)
        self.A_log = nn.Parameter(torch.log(a))  # S4D-real: A = -(1..d_state)
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.out_proj = nn.Linear(self.d_inner, d_model)

    def init_state(
        self, batch: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> SSMState:
        """A zero state for ``batch`` rows (on the parameters' device/dtype by default)."""
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        device = self.A_log.device if device is None else device
        dtype = self.A_log.dtype if dtype is None else dtype
        return SSMState(
            conv=torch.zeros(batch, self.d_inner, self.d_conv - 1, device=device, dtype=dtype),
            ssm=torch.zeros(batch, self.d_inner, self.d_state, device=device, dtype=dtype),
        )

    def _selection(self, xc: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The input-dependent ``delta`` (..., d_inner), ``B`` and ``C`` (..., d_state)."""
        dt_in, b, c = torch.split(self.x_proj(xc), [self.dt_rank, self.d_state, self.d_state], -1)
        return F.softplus(self.dt_proj(dt_in)), b, c

    def _ssm_inputs(self, xc: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Return ``log_a = delta*A``, ``u = delta*B*x`` and ``C`` from conv output ``xc``."""
        delta, b, c = self._selection(xc)
        a = -torch.exp(self.A_log)  # (d_inner, d_state)
        log_a = delta[..., None] * a
        u = (delta * xc)[..., None] * b[..., None, :]
        return log_a, u, c

    def _fused_kernel(self, x: Tensor, resets: Tensor) -> Callable[..., Tensor] | None:
        """The fused kernel if it may run here (CUDA input, no resets inside), else None."""
        if not (self.fused and x.is_cuda) or bool(resets.any()):
            return None
        return fused_scan()

    def forward(self, x: Tensor, resets: Tensor | None = None) -> Tensor:
        """Run a whole sequence from a zero state.

        Args:
            x: shape ``(B, L, d_model)``.
            resets: optional bool ``(B, L)``; True at ``[b, t]`` zeroes row ``b``'s hidden state
                and conv history before step ``t``.

        Returns:
            Shape ``(B, L, d_model)``.

        Raises:
            ValueError: on a wrong input shape or a ``resets`` shape mismatch.
        """
        if x.dim() != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"x must have shape (B, L, {self.d_model}), got {tuple(x.shape)}")
        bsz, length, _ = x.shape
        resets = _check_resets(resets, bsz, length, x.device)
        xz = self.in_proj(x)
        xi, z = xz.chunk(2, dim=-1)  # (B, L, d_inner) each
        # Causal depthwise conv; a tap at lag j is dropped when a reset lies in (t - j, t].
        count = torch.cumsum(resets.to(torch.int64), dim=1)
        xc = xi * self.conv_weight[:, -1] + self.conv_bias
        for lag in range(1, min(self.d_conv, length)):
            shifted = F.pad(xi[:, :-lag], (0, 0, lag, 0))
            same = torch.ones_like(resets)
            same[:, lag:] = count[:, lag:] == count[:, :-lag]
            xc = xc + shifted * same[..., None].to(x.dtype) * self.conv_weight[:, -1 - lag]
        xc = F.silu(xc)
        kernel = self._fused_kernel(x, resets)
        if kernel is not None:
            delta, b, c = self._selection(xc)
            y = kernel(xc.transpose(1, 2).contiguous(), delta.transpose(1, 2).contiguous(),
                       -torch.exp(self.A_log.float()), b.transpose(1, 2).contiguous(),
                       c.transpose(1, 2).contiguous(), self.D.float(),
                       z.transpose(1, 2).contiguous())  # (B, d_inner, L): (y + D x) silu(z)
            fused_out: Tensor = self.out_proj(y.transpose(1, 2).to(x.dtype))
            return fused_out
        log_a, u, c = self._ssm_inputs(xc)
        h0 = torch.zeros(bsz, self.d_inner, self.d_state, device=x.device, dtype=x.dtype)
        if self.scan == "sequential":
            y, _ = selective_scan_sequential(log_a, u, c, resets, h0)
        else:
            y, _ = selective_scan_chunked(log_a, u, c, resets, h0, self.chunk_size)
        y = (y + xc * self.D) * F.silu(z)
        out: Tensor = self.out_proj(y)
        return out

    def step(
        self, x_t: Tensor, state: SSMState | None = None, resets: Tensor | None = None
    ) -> tuple[Tensor, SSMState]:
        """Advance one step.

        Args:
            x_t: shape ``(B, d_model)``.
            state: the previous state; None starts from zeros.
            resets: optional bool ``(B,)``; True rows start a new episode at this step.

        Returns:
            ``y_t`` of shape ``(B, d_model)`` and the new :class:`SSMState`.

        Raises:
            ValueError: on a wrong input shape or a state of another batch size or width.
        """
        if x_t.dim() != 2 or x_t.shape[-1] != self.d_model:
            raise ValueError(f"x_t must have shape (B, {self.d_model}), got {tuple(x_t.shape)}")
        bsz = x_t.shape[0]
        if state is None:
            state = self.init_state(bsz, x_t.device, x_t.dtype)
        expected = (bsz, self.d_inner, self.d_state)
        if tuple(state.ssm.shape) != expected or tuple(state.conv.shape) != (
            bsz,
            self.d_inner,
            self.d_conv - 1,
        ):
            raise ValueError(
                f"state shapes conv={tuple(state.conv.shape)}, ssm={tuple(state.ssm.shape)} do "
                f"not match batch {bsz}, d_inner {self.d_inner}, d_state {self.d_state}, "
                f"d_conv {self.d_conv}"
            )
        if resets is not None:
            state = state.reset(resets)
        xi, z = self.in_proj(x_t).chunk(2, dim=-1)  # (B, d_inner)
        window = torch.cat([state.conv, xi[:, :, None]], dim=-1)  # (B, d_inner, d_conv)
        xc = F.silu((window * self.conv_weight).sum(-1) + self.conv_bias)
        log_a, u, c = self._ssm_inputs(xc)
        h = torch.exp(log_a) * state.ssm + u
        y = torch.einsum("bdn,bn->bd", h, c)
        y = (y + xc * self.D) * F.silu(z)
        out: Tensor = self.out_proj(y)
        return out, SSMState(conv=window[:, :, 1:], ssm=h)


def fused_scan() -> Callable[..., Tensor] | None:
    """``mamba_ssm``'s fused CUDA ``selective_scan_fn`` when that package is installed, else None.

    Install it on a CUDA machine with ``pip install mamba-ssm`` (it builds against the local
    torch and CUDA toolkit); robomem never needs it.
    """
    global _FUSED
    if _FUSED is None:
        try:
            from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
        except Exception:  # not installed, or built for another torch/CUDA: the torch path
            _FUSED = False
        else:
            _FUSED = selective_scan_fn
    return _FUSED if callable(_FUSED) else None


_FUSED: Callable[..., Tensor] | bool | None = None


def _check_resets(resets: Tensor | None, bsz: int, length: int, device: torch.device) -> Tensor:
    """Validate ``resets`` (or make an all-False one) as a bool ``(B, L)`` tensor."""
    if resets is None:
        return torch.zeros(bsz, length, dtype=torch.bool, device=device)
    if resets.shape != (bsz, length):
        raise ValueError(f"resets must have shape ({bsz}, {length}), got {tuple(resets.shape)}")
    return resets.to(device=device, dtype=torch.bool)


class SSMBackbone(nn.Module):
    """A stack of pre-norm residual :class:`SelectiveSSM` blocks with a final LayerNorm.

    Layer ``i`` computes ``x = x + ssm_i(norm_i(x))``. The interface mirrors
    :class:`SelectiveSSM`; the recurrent state is a list of per-layer :class:`SSMState`.

    Args:
        d_model: model width, >= 1.
        n_layers: number of blocks, >= 1.
        **block_kwargs: passed to every :class:`SelectiveSSM` (``d_state``, ``expand``, ...).

    Raises:
        ValueError: if ``n_layers < 1`` (or a block argument is bad).
    """

    def __init__(self, d_model: int, n_layers: int, **block_kwargs: int | str | float) -> None:
        super().__init__()
        if not isinstance(n_layers, int) or n_layers < 1:
            raise ValueError(f"n_layers must be an int >= 1, got {n_layers!r}")
        self.d_model = d_model
        self.layers = nn.ModuleList(
            [SelectiveSSM(d_model, **block_kwargs) for _ in range(n_layers)]  # type: ignore[arg-type]
        )
        self.norms = nn.ModuleList([nn.LayerNorm(d_model) for _ in range(n_layers)])
        self.norm_f = nn.LayerNorm(d_model)

    def _blocks(self) -> list[tuple[nn.Module, SelectiveSSM]]:
        return [(n, layer) for n, layer in zip(self.norms, self.layers)]  # type: ignore[misc]

    def init_state(
        self, batch: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> list[SSMState]:
        """Zero states, one per layer."""
        return [layer.init_state(batch, device, dtype) for _, layer in self._blocks()]

    def forward(self, x: Tensor, resets: Tensor | None = None) -> Tensor:
        """Run a whole sequence: ``(B, L, d_model)`` in, ``(B, L, d_model)`` out."""
        for norm, layer in self._blocks():
            x = x + layer(norm(x), resets)
        out: Tensor = self.norm_f(x)
        return out

    def step(
        self,
        x_t: Tensor,
        state: list[SSMState] | None = None,
        resets: Tensor | None = None,
    ) -> tuple[Tensor, list[SSMState]]:
        """Advance one step: ``(B, d_model)`` in, ``(B, d_model)`` and the new states out.

        Raises:
            ValueError: if ``state`` has the wrong number of layers (or a bad shape).
        """
        blocks = self._blocks()
        if state is None:
            state = [None] * len(blocks)  # type: ignore[list-item]
        if len(state) != len(blocks):
            raise ValueError(f"state must hold {len(blocks)} layer states, got {len(state)}")
        new: list[SSMState] = []
        for (norm, layer), s in zip(blocks, state):
            y, s_new = layer.step(norm(x_t), s, resets)
            x_t = x_t + y
            new.append(s_new)
        out: Tensor = self.norm_f(x_t)
        return out, new

"""Hierarchical chunk attention (robomem.memory.hcam)."""

from __future__ import annotations

import pytest
import torch

from robomem.memory.hcam import HCAM, HCAMBlock, sinusoidal_positions


def _hcam(d: int = 8, heads: int = 2, chunk: int = 4, k: int = 2, seed: int = 0) -> HCAM:
    torch.manual_seed(seed)
    return HCAM(d, heads, chunk, k).eval()


@pytest.mark.parametrize(
    ("n_queries", "length", "chunk", "k", "heads"),
    [
        (1, 4, 4, 1, 1),
        (3, 12, 4, 2, 2),
        (5, 10, 4, 2, 4),  # 10 steps -> last chunk padded
        (2, 7, 3, 5, 2),  # k > n_chunks is clamped
        (4, 1, 3, 1, 8),  # a single, mostly padded chunk
        (2, 16, 1, 3, 2),  # one step per chunk
    ],
)
def test_shapes_and_finite(n_queries: int, length: int, chunk: int, k: int, heads: int) -> None:
    d, b = 16, 3
    hcam = _hcam(d, heads, chunk, k)
    q, m = torch.randn(b, n_queries, d), torch.randn(b, length, d)
    res = hcam.attend(q, m)
    n = -(-length // chunk)
    assert hcam.n_chunks(length) == n
    assert res.output.shape == (b, n_queries, d)
    assert res.chunk_indices.shape == (b, n_queries, min(k, n))
    assert res.chunk_weights.shape == (b, n_queries, min(k, n))
    assert torch.isfinite(res.output).all()
    assert torch.allclose(res.chunk_weights.sum(-1), torch.ones(b, n_queries), atol=1e-6)
    assert ((res.chunk_indices >= 0) & (res.chunk_indices < n)).all()
    # distinct chunks per query, sorted by weight
    for row in res.chunk_indices.reshape(-1, res.chunk_indices.shape[-1]):
        assert len(set(row.tolist())) == row.numel()
    assert (res.chunk_weights[..., :-1] >= res.chunk_weights[..., 1:] - 1e-7).all()
    assert torch.equal(hcam(q, m), res.output)


def test_single_chunk_reduces_to_multihead_attention() -> None:
    d, c = 8, 5
    hcam = _hcam(d, heads=2, chunk=c, k=3)  # k clamps to the one chunk
    q, m = torch.randn(2, 4, d), torch.randn(2, c, d)
    kv = m + sinusoidal_positions(c, d)
    want, _ = hcam.attention(q, kv, kv)
    assert torch.allclose(hcam(q, m), want, atol=1e-5)


def test_padded_chunk_ignores_padding() -> None:
    d, c, t = 8, 5, 3  # one chunk with 3 real steps and 2 padded
    hcam = _hcam(d, heads=2, chunk=c, k=1)
    q, m = torch.randn(2, 4, d), torch.randn(2, t, d)
    kv = m + sinusoidal_positions(c, d)[:t]
    want, _ = hcam.attention(q, kv, kv)
    assert torch.allclose(hcam(q, m), want, atol=1e-5)


def test_summary_is_mean_over_unpadded_steps() -> None:
    # 2 chunks of 4, the second holding 1 real step: its summary must be that step itself.
    d = 4
    hcam = _hcam(d, heads=1, chunk=4, k=2)
    with torch.no_grad():
        hcam.query_proj.weight.copy_(torch.eye(d))
        hcam.key_proj.weight.copy_(torch.eye(d))
    m = torch.zeros(1, 5, d)
    m[0, 4] = torch.tensor([0.0, 4.0, 0.0, 0.0])
    m[0, :4, 1] = 3.0  # chunk 0 mean 3 along feature 1; chunk 1 mean 4 (1 if padding counted)
    q = torch.tensor([[[0.0, 1.0, 0.0, 0.0]]])
    res = hcam.attend(q, m)
    assert res.chunk_indices[0, 0, 0].item() == 1
    want = torch.softmax(torch.tensor([4.0, 3.0]) / 2.0, dim=0)
    assert torch.allclose(res.chunk_weights[0, 0], want, atol=1e-6)


def _planted(d: int, n_chunks: int, c: int, target: int, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    q = torch.nn.functional.normalize(torch.randn(2, 3, d, generator=g), dim=-1)
    m = 0.05 * torch.randn(2, n_chunks * c, d, generator=g)
    # plant in chunk `target` the first query's direction, strongly
    m[:, target * c + 2] = 10.0 * q[:, 0]
    return q, m


@pytest.mark.parametrize("target", [0, 3, 6])
def test_recalls_planted_event(target: int) -> None:
    d, c, n = 8, 4, 7
    hcam = _hcam(d, heads=2, chunk=c, k=2, seed=target)
    with torch.no_grad():
        hcam.query_proj.weight.copy_(torch.eye(d))
        hcam.key_proj.weight.copy_(torch.eye(d))
    q, m = _planted(d, n, c, target, seed=target)
    res = hcam.attend(q, m)
    assert (res.chunk_indices[:, 0, 0] == target).all()
    assert (res.chunk_weights[:, 0, 0] > 0.5).all()
    # forbidding the planted chunk means it is never selected
    mask = torch.ones(2, 3, n, dtype=torch.bool)
    mask[:, :, target] = False
    res = hcam.attend(q, m, mask)
    assert not (res.chunk_indices == target).any()


def _masked_setup() -> tuple[HCAM, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    d, c, n = 8, 3, 4
    hcam = _hcam(d, heads=2, chunk=c, k=n)  # k = n: the masked chunk would otherwise be used
    q = torch.randn(2, 5, d)
    m = torch.randn(2, n * c, d)
    mask = torch.rand(2, 5, n) > 0.4
    mask[..., 0] = True  # every query may recall something
    mask[..., 2] = False  # nobody may recall chunk 2
    m2 = m.clone()
    m2[:, 2 * c : 3 * c] = 100.0 * torch.randn(2, c, d)
    return hcam, q, m, m2, mask


def test_masked_chunks_do_not_affect_output() -> None:
    hcam, q, m, m2, mask = _masked_setup()
    a, b = hcam.attend(q, m, mask), hcam.attend(q, m2, mask)
    assert torch.equal(a.output, b.output)
    assert (a.chunk_weights[~mask.gather(-1, a.chunk_indices)] == 0).all()
    # without the mask the change does matter (the test can fail)
    assert not torch.allclose(hcam(q, m), hcam(q, m2))
    # even non-finite content of a masked chunk stays out
    m3 = m.clone()
    m3[:, 6:9] = float("inf")
    assert torch.equal(hcam(q, m3, mask), a.output)


def test_masked_chunks_get_no_gradient() -> None:
    hcam, q, m, m2, mask = _masked_setup()

    def grads(memory: torch.Tensor) -> list[torch.Tensor]:
        hcam.zero_grad()
        qq = q.clone().requires_grad_(True)
        memory = memory.clone().requires_grad_(True)
        hcam(qq, memory, mask).square().sum().backward()
        assert memory.grad is None
        assert qq.grad is not None
        out = [qq.grad]
        for p in hcam.parameters():
            assert p.grad is not None
            out.append(p.grad.clone())
        return out

    for ga, gb in zip(grads(m), grads(m2)):
        assert torch.allclose(ga, gb, atol=1e-6)


def test_query_without_allowed_chunks_gives_zero() -> None:
    hcam = _hcam(8, heads=2, chunk=2, k=2)
    q, m = torch.randn(1, 2, 8), torch.randn(1, 6, 8)
    mask = torch.ones(1, 2, 3, dtype=torch.bool)
    mask[0, 1] = False
    res = hcam.attend(q, m, mask)
    assert torch.equal(res.output[0, 1], torch.zeros(8))
    assert torch.equal(res.chunk_weights[0, 1], torch.zeros(2))
    assert res.output[0, 0].abs().sum() > 0
    q.requires_grad_(True)
    hcam(q, m, mask).sum().backward()
    assert q.grad is not None and torch.isfinite(q.grad).all()


def test_block_shapes_residual_and_dtype() -> None:
    torch.manual_seed(0)
    for ff in (None, 32):
        block = HCAMBlock(8, 2, 4, 2, ff_dim=ff).eval()
        x, m = torch.randn(2, 3, 8), torch.randn(2, 9, 8)
        out = block(x, m)
        assert out.shape == x.shape and torch.isfinite(out).all()
        assert not torch.allclose(out, x)
        block64 = block.to(torch.float64)
        assert block64.hcam.positions.dtype == torch.float64
        assert block64(x.double(), m.double()).dtype == torch.float64
    block = HCAMBlock(8, 2, 4, 2, ff_dim=16)
    assert block.ff is not None


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((8, 3, 4, 2), "divisible"),
        ((8, 2, 0, 2), "chunk_size"),
        ((8, 2, 4, 0), "top_k"),
        ((0, 1, 4, 2), "d_model"),
        ((8, 0, 4, 2), "n_heads"),
        ((8, 2, 4, 2, 1.5), "dropout"),
    ],
)
def test_bad_constructor_args(args: tuple[float, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        HCAM(*args)  # type: ignore[arg-type]


def test_bad_block_args() -> None:
    with pytest.raises(ValueError, match="ff_dim"):
        HCAMBlock(8, 2, 4, 2, ff_dim=0)


def test_bad_inputs() -> None:
    hcam = _hcam(8, heads=2, chunk=4, k=2)
    q, m = torch.randn(2, 3, 8), torch.randn(2, 8, 8)
    with pytest.raises(ValueError, match="queries"):
        hcam(q[0], m)
    with pytest.raises(ValueError, match="memory"):
        hcam(q, m[0])
    with pytest.raises(ValueError, match="d_model=8"):
        hcam(q, torch.randn(2, 8, 6))
    with pytest.raises(ValueError, match="batch"):
        hcam(q, torch.randn(3, 8, 8))
    with pytest.raises(ValueError, match="at least one step"):
        hcam(q, torch.randn(2, 0, 8))
    with pytest.raises(ValueError, match="chunk_mask must have shape"):
        hcam(q, m, torch.ones(2, 3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="bool"):
        hcam(q, m, torch.ones(2, 3, 2))
    with pytest.raises(ValueError, match="length"):
        sinusoidal_positions(0, 4)

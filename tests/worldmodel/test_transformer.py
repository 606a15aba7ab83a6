"""Tests for robomem.worldmodel.transformer (causal transformer backbone with a KV cache)."""

from __future__ import annotations

import pytest
import torch

from robomem.worldmodel import CausalTransformer, KVCache

ATOL = 1e-5


def _model(d: int = 16, layers: int = 2, heads: int = 4, max_len: int = 64) -> CausalTransformer:
    return CausalTransformer(d, layers, heads, max_len=max_len).eval()


def _run_steps(
    model: CausalTransformer, x: torch.Tensor, resets: torch.Tensor | None = None
) -> tuple[torch.Tensor, KVCache]:
    cache = None
    ys = []
    for t in range(x.shape[1]):
        r = None if resets is None else resets[:, t]
        y, cache = model.step(x[:, t], cache, r)
        ys.append(y)
    assert cache is not None
    return torch.stack(ys, dim=1), cache


def test_shapes_and_finite() -> None:
    torch.manual_seed(0)
    m = _model()
    y = m(torch.randn(3, 7, 16))
    assert y.shape == (3, 7, 16)
    assert torch.isfinite(y).all()
    y_t, cache = m.step(torch.randn(3, 16))
    assert y_t.shape == (3, 16)
    assert cache.length == 1
    assert cache.keys[0].shape == (3, 4, 1, 4)


@pytest.mark.parametrize(
    ("seed", "d", "layers", "heads", "bsz", "length"),
    [(0, 16, 2, 4, 3, 9), (1, 8, 1, 1, 1, 5), (2, 24, 3, 6, 2, 17), (3, 12, 2, 3, 4, 1)],
)
def test_step_matches_forward(
    seed: int, d: int, layers: int, heads: int, bsz: int, length: int
) -> None:
    torch.manual_seed(seed)
    m = _model(d, layers, heads)
    x = torch.randn(bsz, length, d)
    y_steps, cache = _run_steps(m, x)
    torch.testing.assert_close(y_steps, m(x), atol=ATOL, rtol=0)
    assert cache.length == length
    assert cache.pos.tolist() == [length] * bsz


def test_step_matches_forward_with_resets() -> None:
    torch.manual_seed(4)
    m = _model()
    x = torch.randn(3, 12, 16)
    resets = torch.zeros(3, 12, dtype=torch.bool)
    resets[0, 4] = True
    resets[0, 9] = True
    resets[1, 0] = True
    resets[2, 11] = True
    y_steps, _ = _run_steps(m, x, resets)
    torch.testing.assert_close(y_steps, m(x, resets), atol=ATOL, rtol=0)


@pytest.mark.parametrize("path", ["forward", "step"])
def test_reset_equals_fresh_suffix_and_other_rows_unaffected(path: str) -> None:
    torch.manual_seed(5)
    m = _model()
    x = torch.randn(2, 10, 16)
    t0 = 6
    resets = torch.zeros(2, 10, dtype=torch.bool)
    resets[0, t0] = True

    def run(inp: torch.Tensor, r: torch.Tensor | None) -> torch.Tensor:
        return m(inp, r) if path == "forward" else _run_steps(m, inp, r)[0]

    y = run(x, resets)
    fresh = run(x[:1, t0:], None)
    torch.testing.assert_close(y[0, t0:], fresh[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(y[0, :t0], run(x[:1, :t0], None)[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(y[1], run(x[1:], None)[0], atol=ATOL, rtol=0)
    # The reset really changes row 0's outputs after t0.
    assert not torch.allclose(y[0, t0:], run(x[:1], None)[0, t0:], atol=1e-3)


def test_causality() -> None:
    torch.manual_seed(6)
    m = _model()
    x = torch.randn(2, 8, 16)
    y = m(x)
    x2 = x.clone()
    x2[:, 5:] = torch.randn(2, 3, 16)
    y2 = m(x2)
    torch.testing.assert_close(y[:, :5], y2[:, :5], atol=0, rtol=0)
    assert not torch.allclose(y[:, 5:], y2[:, 5:], atol=1e-3)


def test_kv_cache_grows_by_one_per_step() -> None:
    torch.manual_seed(7)
    m = _model(d=8, layers=3, heads=2)
    cache = m.init_state(2)
    assert cache.length == 0
    assert len(cache.keys) == len(cache.values) == 3
    for t in range(1, 6):
        r = torch.tensor([t == 3, False])
        _, cache = m.step(torch.randn(2, 8), cache, r)
        assert cache.length == t
        for k, v in zip(cache.keys, cache.values):
            assert k.shape == v.shape == (2, 2, t, 4)
    assert cache.start.tolist() == [2, 0]
    assert cache.pos.tolist() == [3, 5]
    assert cache.detach().length == 5


def test_gradients_flow() -> None:
    torch.manual_seed(8)
    m = CausalTransformer(8, 2, 2, dropout=0.1).train()
    x = torch.randn(2, 5, 8, requires_grad=True)
    m(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert all(p.grad is not None for p in m.parameters())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"d_model": 10, "n_layers": 1, "n_heads": 3}, "divisible"),
        ({"d_model": 8, "n_layers": 0, "n_heads": 2}, "n_layers"),
        ({"d_model": 8, "n_layers": 1, "n_heads": 0}, "n_heads"),
        ({"d_model": 8, "n_layers": 1, "n_heads": 2, "max_len": 0}, "max_len"),
        ({"d_model": 8, "n_layers": 1, "n_heads": 2, "dropout": 1.0}, "dropout"),
    ],
)
def test_bad_arguments(kwargs: dict[str, int | float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CausalTransformer(**kwargs)  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    m = _model(d=8, layers=1, heads=2, max_len=4)
    with pytest.raises(ValueError, match="max_len 4"):
        m(torch.randn(1, 5, 8))
    # Resets keep every episode within max_len, so a longer sequence is fine.
    r = torch.zeros(1, 6, dtype=torch.bool)
    r[0, 3] = True
    assert m(torch.randn(1, 6, 8), r).shape == (1, 6, 8)
    with pytest.raises(ValueError, match=r"\(B, L, 8\)"):
        m(torch.randn(1, 5, 7))
    with pytest.raises(ValueError, match="resets"):
        m(torch.randn(2, 3, 8), torch.zeros(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"\(B, 8\)"):
        m.step(torch.randn(2, 3, 8))
    with pytest.raises(ValueError, match="batch size"):
        m.step(torch.randn(2, 8), m.init_state(3))
    with pytest.raises(ValueError, match="resets"):
        m.step(torch.randn(2, 8), None, torch.zeros(3, dtype=torch.bool))
    cache = None
    for _ in range(4):
        _, cache = m.step(torch.randn(1, 8), cache)
    with pytest.raises(ValueError, match="max_len 4"):
        m.step(torch.randn(1, 8), cache)
    _, cache = m.step(torch.randn(1, 8), cache, torch.tensor([True]))
    assert cache.pos.tolist() == [1]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:
    torch.manual_seed(9)
    m = _model()
    x = torch.randn(2, 9, 16)
    resets = torch.zeros(2, 9, dtype=torch.bool)
    resets[1, 4] = True
    y_cpu = m(x, resets)
    m_gpu = m.to("cuda")
    y_gpu = m_gpu(x.cuda(), resets.cuda())
    y_steps, _ = _run_steps(m_gpu, x.cuda(), resets.cuda())
    torch.testing.assert_close(y_gpu.cpu(), y_cpu, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(y_steps.cpu(), y_cpu, atol=1e-4, rtol=1e-4)

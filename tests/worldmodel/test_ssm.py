"""Tests for robomem.worldmodel.ssm (selective state-space blocks)."""

from __future__ import annotations

import pytest
import torch

from robomem.worldmodel import SelectiveSSM, SSMBackbone, SSMState
from robomem.worldmodel.ssm import selective_scan_chunked, selective_scan_sequential

ATOL = 1e-5


def _run_steps(model: SelectiveSSM | SSMBackbone, x: torch.Tensor, resets=None) -> torch.Tensor:
    state = None
    ys = []
    for t in range(x.shape[1]):
        r = None if resets is None else resets[:, t]
        y, state = model.step(x[:, t], state, r)
        ys.append(y)
    return torch.stack(ys, dim=1)


@pytest.mark.parametrize("scan", ["chunked", "sequential"])
def test_shapes_and_finite(scan: str) -> None:
    torch.manual_seed(0)
    m = SelectiveSSM(12, d_state=5, scan=scan)
    y = m(torch.randn(3, 7, 12))
    assert y.shape == (3, 7, 12)
    assert torch.isfinite(y).all()
    assert m.d_inner == 24 and m.dt_rank == 1


@pytest.mark.parametrize(
    ("seed", "d_model", "d_state", "d_conv", "length", "chunk"),
    [(0, 8, 4, 4, 10, 3), (1, 16, 16, 2, 33, 32), (2, 5, 3, 1, 9, 4), (3, 20, 8, 5, 3, 2)],
)
def test_step_matches_forward(
    seed: int, d_model: int, d_state: int, d_conv: int, length: int, chunk: int
) -> None:
    torch.manual_seed(seed)
    m = SelectiveSSM(d_model, d_state=d_state, d_conv=d_conv, chunk_size=chunk)
    x = torch.randn(2, length, d_model)
    with torch.no_grad():
        y = m(x)
        torch.testing.assert_close(_run_steps(m, x), y, atol=ATOL, rtol=0)
        m.scan = "sequential"
        torch.testing.assert_close(m(x), y, atol=ATOL, rtol=0)


def test_scan_chunked_equals_sequential_with_resets() -> None:
    torch.manual_seed(4)
    b, length, d, n = 3, 23, 6, 4
    log_a = -torch.rand(b, length, d, n) * 3
    u = torch.randn(b, length, d, n)
    c = torch.randn(b, length, n)
    resets = torch.rand(b, length) < 0.2
    h0 = torch.randn(b, d, n)
    y_ref, h_ref = selective_scan_sequential(log_a, u, c, resets, h0)
    for chunk in (1, 4, 7, 64):
        y, h = selective_scan_chunked(log_a, u, c, resets, h0, chunk)
        torch.testing.assert_close(y, y_ref, atol=ATOL, rtol=0)
        torch.testing.assert_close(h, h_ref, atol=ATOL, rtol=0)


@pytest.mark.parametrize("scan", ["chunked", "sequential"])
def test_reset_equals_fresh_start_and_other_rows_unaffected(scan: str) -> None:
    torch.manual_seed(5)
    m = SelectiveSSM(8, d_state=4, d_conv=3, chunk_size=4, scan=scan)
    x = torch.randn(3, 12, 8)
    t0 = 5
    resets = torch.zeros(3, 12, dtype=torch.bool)
    resets[1, t0] = True
    with torch.no_grad():
        y_plain = m(x)
        y = m(x, resets)
        y_suffix = m(x[1:2, t0:])
        y_steps = _run_steps(m, x, resets)
    torch.testing.assert_close(y[1, t0:], y_suffix[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(y[1, :t0], y_plain[1, :t0], atol=ATOL, rtol=0)
    torch.testing.assert_close(y[[0, 2]], y_plain[[0, 2]], atol=ATOL, rtol=0)
    torch.testing.assert_close(y_steps, y, atol=ATOL, rtol=0)
    assert not torch.allclose(y[1, t0:], y_plain[1, t0:], atol=1e-4)


def test_reset_at_step_zero_is_noop() -> None:
    torch.manual_seed(6)
    m = SelectiveSSM(6, d_state=3)
    x = torch.randn(2, 5, 6)
    resets = torch.zeros(2, 5, dtype=torch.bool)
    resets[:, 0] = True
    with torch.no_grad():
        torch.testing.assert_close(m(x, resets), m(x), atol=ATOL, rtol=0)


def test_causality() -> None:
    torch.manual_seed(7)
    m = SelectiveSSM(8, d_state=4, chunk_size=3)
    x = torch.randn(2, 10, 8)
    x2 = x.clone()
    t = 4
    x2[:, t + 1 :] = torch.randn(2, 10 - t - 1, 8)
    with torch.no_grad():
        y, y2 = m(x), m(x2)
    torch.testing.assert_close(y[:, : t + 1], y2[:, : t + 1], atol=0, rtol=0)
    assert not torch.allclose(y[:, t + 1 :], y2[:, t + 1 :])


@pytest.mark.parametrize("model_cls", ["ssm", "backbone"])
def test_gradients_reach_all_parameters(model_cls: str) -> None:
    torch.manual_seed(8)
    m: SelectiveSSM | SSMBackbone
    m = SelectiveSSM(8, d_state=4) if model_cls == "ssm" else SSMBackbone(8, 2, d_state=4)
    resets = torch.zeros(2, 6, dtype=torch.bool)
    resets[0, 3] = True
    m(torch.randn(2, 6, 8), resets).pow(2).mean().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_backbone_step_matches_forward_with_resets() -> None:
    torch.manual_seed(9)
    bb = SSMBackbone(8, 3, d_state=4, chunk_size=4)
    x = torch.randn(2, 9, 8)
    resets = torch.zeros(2, 9, dtype=torch.bool)
    resets[0, 4] = True
    with torch.no_grad():
        y = bb(x, resets)
        assert y.shape == (2, 9, 8)
        torch.testing.assert_close(_run_steps(bb, x, resets), y, atol=ATOL, rtol=0)
    states = bb.init_state(2)
    assert len(states) == 3 and all(isinstance(s, SSMState) for s in states)
    with pytest.raises(ValueError, match="layer states"):
        bb.step(x[:, 0], states[:2])
    with pytest.raises(ValueError, match="n_layers"):
        SSMBackbone(8, 0)


def test_state_reset_zeroes_only_masked_rows() -> None:
    m = SelectiveSSM(4, d_state=3, d_conv=3)
    s = SSMState(conv=torch.randn(3, m.d_inner, 2) + 5, ssm=torch.randn(3, m.d_inner, 3) + 5)
    r = s.reset(torch.tensor([False, True, False]))
    assert torch.all(r.conv[1] == 0) and torch.all(r.ssm[1] == 0)
    torch.testing.assert_close(r.conv[[0, 2]], s.conv[[0, 2]], atol=0, rtol=0)
    torch.testing.assert_close(r.ssm[[0, 2]], s.ssm[[0, 2]], atol=0, rtol=0)
    assert torch.all(s.ssm[1] != 0)  # original untouched
    with pytest.raises(ValueError, match=r"reset mask must have shape \(3,\)"):
        s.reset(torch.tensor([True, False]))


def test_init_state_shapes() -> None:
    m = SelectiveSSM(4, d_state=3, expand=3, d_conv=2)
    s = m.init_state(5, dtype=torch.float64)
    assert s.conv.shape == (5, 12, 1) and s.ssm.shape == (5, 12, 3)
    assert s.ssm.dtype == torch.float64 and not s.ssm.any()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"d_model": 0}, "d_model"),
        ({"d_model": 4, "d_state": 0}, "d_state"),
        ({"d_model": 4, "d_conv": 0}, "d_conv"),
        ({"d_model": 4, "dt_rank": "big"}, "dt_rank"),
        ({"d_model": 4, "dt_rank": 0}, "dt_rank"),
        ({"d_model": 4, "scan": "magic"}, "scan"),
        ({"d_model": 4, "chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_constructor_args(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SelectiveSSM(**kwargs)  # type: ignore[arg-type]


def test_bad_inputs_raise() -> None:
    m = SelectiveSSM(4, d_state=2)
    with pytest.raises(ValueError, match=r"\(B, L, 4\)"):
        m(torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"\(B, L, 4\)"):
        m(torch.randn(2, 3, 5))
    with pytest.raises(ValueError, match=r"resets must have shape \(2, 3\)"):
        m(torch.randn(2, 3, 4), torch.zeros(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"\(B, 4\)"):
        m.step(torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="state shapes"):
        m.step(torch.randn(2, 4), m.init_state(3))
    with pytest.raises(ValueError, match="batch"):
        m.init_state(0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:
    torch.manual_seed(10)
    m = SelectiveSSM(16, d_state=8, chunk_size=8)
    x = torch.randn(2, 20, 16)
    resets = torch.zeros(2, 20, dtype=torch.bool)
    resets[1, 7] = True
    with torch.no_grad():
        y_cpu = m(x, resets)
        m_gpu = m.to("cuda")
        y_gpu = m_gpu(x.cuda(), resets.cuda())
        y_step = _run_steps(m_gpu, x.cuda(), resets.cuda())
    assert y_gpu.device.type == "cuda"
    torch.testing.assert_close(y_gpu.cpu(), y_cpu, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(y_step.cpu(), y_cpu, atol=1e-4, rtol=1e-4)


def test_fused_kernel_is_not_used_on_cpu_or_across_resets(monkeypatch: pytest.MonkeyPatch) -> None:
    import robomem.worldmodel.ssm as ssm_mod

    calls: list[int] = []

    def fake_kernel(*args: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        raise AssertionError("the fused kernel must not run here")

    monkeypatch.setattr(ssm_mod, "_FUSED", fake_kernel)
    m = SelectiveSSM(8, d_state=4)
    m(torch.randn(2, 5, 8))  # CPU input: the torch scan
    assert calls == [] and ssm_mod.fused_scan() is fake_kernel
    monkeypatch.setattr(ssm_mod, "_FUSED", False)
    assert ssm_mod.fused_scan() is None


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fused_mamba_kernel_matches_the_torch_scan() -> None:
    from robomem.worldmodel.ssm import fused_scan

    if fused_scan() is None:
        pytest.skip("mamba_ssm is not installed (pip install mamba-ssm)")
    torch.manual_seed(11)
    fused = SelectiveSSM(32, d_state=16, chunk_size=16).cuda()
    plain = SelectiveSSM(32, d_state=16, chunk_size=16, fused=False).cuda()
    plain.load_state_dict(fused.state_dict())
    x = torch.randn(3, 100, 32, device="cuda", requires_grad=True)
    y_fused, y_plain = fused(x), plain(x)
    torch.testing.assert_close(y_fused, y_plain, atol=1e-4, rtol=1e-4)
    g_fused = torch.autograd.grad(y_fused.square().sum(), x)[0]
    g_plain = torch.autograd.grad(y_plain.square().sum(), x)[0]
    torch.testing.assert_close(g_fused, g_plain, atol=1e-3, rtol=1e-3)
    resets = torch.zeros(3, 100, dtype=torch.bool, device="cuda")
    resets[1, 40] = True  # resets inside the sequence: the torch scan, same numbers
    torch.testing.assert_close(fused(x, resets), plain(x, resets))


def _mamba_reference_scan(u: torch.Tensor, delta: torch.Tensor, a: torch.Tensor,
                          b: torch.Tensor, c: torch.Tensor, d: torch.Tensor,
                          z: torch.Tensor) -> torch.Tensor:
    """``mamba_ssm``'s documented ``selective_scan_fn`` semantics (its ``selective_scan_ref``):
    u, delta, z (B, D, L); A (D, N); B, C (B, N, L); out = (y + D u) * silu(z), (B, D, L)."""
    h = u.new_zeros(u.shape[0], u.shape[1], a.shape[1])
    ys = []
    for t in range(u.shape[2]):
        da = torch.exp(delta[:, :, t, None] * a)
        h = da * h + delta[:, :, t, None] * b[:, None, :, t] * u[:, :, t, None]
        ys.append(torch.einsum("bdn,bn->bd", h, c[:, :, t]))
    y = torch.stack(ys, dim=2)
    return (y + u * d[None, :, None]) * torch.nn.functional.silu(z)


def test_fused_argument_layout_matches_the_torch_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """On CPU, route forward through the fused branch with mamba's reference semantics: the
    transposes, A, D and gating handed to the kernel must give the torch scan's output."""
    torch.manual_seed(12)
    m = SelectiveSSM(8, d_state=4, chunk_size=4)
    x = torch.randn(2, 9, 8)
    want = m(x)
    monkeypatch.setattr(SelectiveSSM, "_fused_kernel", lambda self, x, r: _mamba_reference_scan)
    torch.testing.assert_close(m(x), want, atol=1e-5, rtol=1e-5)

"""Tests of the local transformers backend: the prefix cache, sink + window, accounting."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from robomem.planners.lm import GenerationRequest, LanguageModelError, make_language_model
from robomem.planners.local_lm import LocalModel
from tests.fixtures.tiny_lm import save_tiny_lm, words

SYSTEM = words(80, seed=1)


@pytest.fixture(scope="module")
def lm_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(scope="module")
def cached(lm_path: Path) -> LocalModel:
    return LocalModel(str(lm_path), device="cpu")


@pytest.fixture(scope="module")
def uncached(lm_path: Path) -> LocalModel:
    return LocalModel(str(lm_path), device="cpu", prefix_cache=False)


def request(context_seed: int, system: str = SYSTEM, n: int = 24, max_new_tokens: int = 16,
            stop: tuple[str, ...] = ()) -> GenerationRequest:
    return GenerationRequest(system=system, context=words(n, seed=context_seed),
                             max_new_tokens=max_new_tokens, stop=stop)


def hf_greedy(lm: LocalModel, req: GenerationRequest) -> str:
    """``model.generate`` (greedy) on the same prompt ids."""
    prefix, rest = lm.prompt_ids(req.system, req.context)
    ids = torch.tensor([prefix + rest])
    with torch.inference_mode():
        out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                max_new_tokens=req.max_new_tokens)
    return str(lm.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True))


def test_prefix_cache_is_token_identical_to_no_cache(cached: LocalModel,
                                                     uncached: LocalModel) -> None:
    cached.close()
    answers = []
    for i, seed in enumerate([10, 11, 12, 10, 13]):  # reuses the cache 4 times, one repeat
        req = request(seed, max_new_tokens=16)
        got, want = cached.generate(req), uncached.generate(req)
        assert got.text == want.text
        assert got.new_tokens == want.new_tokens
        assert got.meta["rebuilt"] is (i == 0)
        assert got.text == hf_greedy(cached, req)
        answers.append(got.text)
    assert answers[0] == answers[3]  # nothing leaked from the calls in between
    assert len(set(answers[:3])) == 3  # different contexts, different answers


def test_accounting(cached: LocalModel, uncached: LocalModel) -> None:
    cached.close()
    req = request(20)
    prefix, rest = cached.prompt_ids(req.system, req.context)
    first, second = cached.generate(req), cached.generate(req)
    for g in (first, second):
        assert g.prompt_tokens == len(prefix) + len(rest) == len(prefix) + 24 + len(
            cached.prompt_ids(req.system, "")[1])
        assert 1 <= g.new_tokens <= req.max_new_tokens
        assert g.seconds > 0
        assert g.meta["model"] == cached.path
    assert first.cached_tokens == 0 and first.meta["rebuilt"] is True
    assert second.cached_tokens == len(prefix) > 80 and second.meta["rebuilt"] is False
    assert cached.last_prefill_seconds == 0.0
    assert uncached.generate(req).cached_tokens == 0


def test_changing_the_system_part_rebuilds_the_cache(cached: LocalModel,
                                                     uncached: LocalModel) -> None:
    cached.close()
    builds, rebuilds = cached.prefix_builds, cached.rebuilds
    cached.generate(request(30))
    other = words(60, seed=2)
    req = request(31, system=other)
    got = cached.generate(req)
    assert cached.rebuilds == rebuilds + 1 and cached.prefix_builds == builds + 2
    assert got.meta["rebuilt"] is True and got.cached_tokens == 0
    assert got.text == uncached.generate(req).text
    again = cached.generate(request(32, system=other))
    assert again.meta["rebuilt"] is False
    assert again.text == uncached.generate(request(32, system=other)).text


def test_sink_window_bounds_the_cache(lm_path: Path, cached: LocalModel) -> None:
    sink, window = 4, 32
    streaming = LocalModel(str(lm_path), device="cpu", sink_tokens=sink, window_tokens=window)
    baseline = LocalModel(str(lm_path), device="cpu", sink_tokens=sink, window_tokens=window,
                          prefix_cache=False)
    for seed in (40, 41):
        req = request(seed, n=300, max_new_tokens=60)
        got = streaming.generate(req)
        assert streaming.last_cache_len <= sink + window
        assert got.prompt_tokens > 300 and got.new_tokens >= 1
        assert got.text == baseline.generate(req).text  # same chunks with or without reuse
        assert baseline.last_cache_len <= sink + window
    # A window longer than everything evicts nothing: plain decoding.
    roomy = LocalModel(str(lm_path), device="cpu", sink_tokens=4, window_tokens=2000)
    req = request(42, n=50, max_new_tokens=12)
    assert roomy.generate(req).text == cached.generate(req).text


def test_missing_or_empty_path_raises(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_model"
    with pytest.raises(LanguageModelError, match="no_such_model"):
        LocalModel(str(missing))
    with pytest.raises(LanguageModelError, match=str(tmp_path)):
        LocalModel(str(tmp_path))
    with pytest.raises(ValueError, match="both"):
        LocalModel(str(tmp_path), sink_tokens=4)


def test_images_are_ignored_with_a_warning_by_a_text_model(lm_path: Path) -> None:
    lm = LocalModel(str(lm_path), device="cpu")
    image = np.zeros((8, 8, 3), np.uint8)
    req = GenerationRequest(system=SYSTEM, context="w1 w2", images=[image], max_new_tokens=4)
    with pytest.warns(UserWarning, match="ignored"):
        with_image = lm.generate(req)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warns once only
        lm.generate(req)
    plain = lm.generate(GenerationRequest(system=SYSTEM, context="w1 w2", max_new_tokens=4))
    assert with_image.text == plain.text


def test_stop_strings_cut_the_answer(cached: LocalModel) -> None:
    full = cached.generate(request(50, max_new_tokens=20))
    tokens = full.text.split()
    assert len(tokens) >= 4
    stop = tokens[3]
    cut = cached.generate(request(50, max_new_tokens=20, stop=(stop, "never-seen")))
    assert cut.text == full.text[:full.text.index(stop)]
    assert stop not in cut.text
    assert cut.new_tokens < full.new_tokens


def test_chat_template_split(cached: LocalModel, lm_path: Path) -> None:
    prefix, suffix, templated = cached.prompt_parts(SYSTEM)
    assert templated
    context = "w5 w6 w7"
    full = cached.tokenizer.apply_chat_template(
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": context}],
        add_generation_prompt=True, tokenize=False)
    assert full.startswith(prefix) and full.endswith(suffix)
    assert full == prefix + context + suffix
    assert SYSTEM in prefix and "<|assistant|>" in suffix
    # The prefix ids do not depend on the context.
    assert cached.prompt_ids(SYSTEM, "w1")[0] == cached.prompt_ids(SYSTEM, "w2 w3")[0]
    plain = LocalModel(str(lm_path), device="cpu", chat_template=False)
    assert plain.prompt_parts(SYSTEM) == (SYSTEM + "\n\n", "\n", False)


def test_empty_context_decodes_from_the_prefix(lm_path: Path) -> None:
    # Without a chat template the suffix is a newline: no tokens after the prefix at all.
    plain = LocalModel(str(lm_path), device="cpu", chat_template=False)
    baseline = LocalModel(str(lm_path), device="cpu", chat_template=False, prefix_cache=False)
    req = GenerationRequest(system=SYSTEM, context="", max_new_tokens=6)
    assert plain.prompt_ids(SYSTEM, "")[1] == []
    first, second = plain.generate(req), plain.generate(req)
    assert first.text == second.text == baseline.generate(req).text
    assert second.cached_tokens == second.prompt_tokens
    with pytest.raises(LanguageModelError, match="no tokens"):
        plain.generate(GenerationRequest(system="", context="", max_new_tokens=2))


def test_registered_as_local(lm_path: Path) -> None:
    lm = make_language_model("local", path=str(lm_path), device="cpu")
    assert isinstance(lm, LocalModel)
    assert lm.generate(request(60, max_new_tokens=3)).new_tokens >= 1

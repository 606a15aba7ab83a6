"""Tests of the local backend's image path on a tiny random LLaVA built offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from robomem.planners.lm import GenerationRequest
from robomem.planners.local_lm import LocalModel
from tests.fixtures.tiny_lm import words
from tests.fixtures.tiny_vlm import save_tiny_vlm

SYSTEM = "You plan. " + words(12, seed=1)
CONTEXT = words(10, seed=2)


@pytest.fixture(scope="module")
def vlm_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_vlm(tmp_path_factory.mktemp("tiny_vlm"))


@pytest.fixture(scope="module")
def vlm(vlm_path: Path) -> LocalModel:
    return LocalModel(str(vlm_path), device="cpu")


def image(seed: int, size: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def request(*images: np.ndarray, max_new_tokens: int = 8,
            stop: tuple[str, ...] = ()) -> GenerationRequest:
    return GenerationRequest(system=SYSTEM, context=CONTEXT, images=images,
                             max_new_tokens=max_new_tokens, stop=stop)


def spy_vision_tower(lm: LocalModel) -> tuple[list[torch.Tensor], Any]:
    """Record the pixel tensors the vision tower sees (generate may pre-encode the images
    outside the model's ``forward``, so the tower is where they are sure to arrive)."""
    seen: list[torch.Tensor] = []

    def hook(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        pixels = kwargs.get("pixel_values", args[0] if args else None)
        assert isinstance(pixels, torch.Tensor)
        seen.append(pixels.detach().clone())

    handle = lm.model.model.vision_tower.register_forward_pre_hook(hook, with_kwargs=True)
    return seen, handle


def test_loads_as_vision_language_model(vlm: LocalModel) -> None:
    assert hasattr(vlm.model.config, "vision_config")
    assert type(vlm.model).__name__ == "LlavaForConditionalGeneration"
    assert vlm.processor is not None and vlm.processor.image_processor is not None


def test_image_request_passes_pixels_to_the_model(vlm: LocalModel) -> None:
    seen, handle = spy_vision_tower(vlm)
    try:
        out = vlm.generate(request(image(0)))
    finally:
        handle.remove()
    assert out.new_tokens > 0 and out.text
    assert out.meta["images"] == 1
    assert len(seen) == 1  # encoded once; decoding steps reuse the KV cache
    expected = vlm.processor.image_processor(Image.fromarray(image(0)),
                                             return_tensors="pt")["pixel_values"]
    torch.testing.assert_close(seen[0], expected)
    n_image_tokens = (16 // 4) ** 2  # one token per patch of the 16 x 16 crop
    text_only = vlm.generate(request())
    assert out.prompt_tokens == text_only.prompt_tokens + n_image_tokens


def test_image_content_changes_the_answer(vlm: LocalModel) -> None:
    answers = {vlm.generate(request(image(seed))).text for seed in range(3)}
    assert len(answers) > 1


def test_image_answer_matches_model_generate(vlm: LocalModel) -> None:
    """The answer is the model's own greedy ``generate`` on the processor's inputs."""
    req = request(image(3), max_new_tokens=6)
    messages = [{"role": "system", "content": [{"type": "text", "text": SYSTEM}]},
                {"role": "user", "content": [{"type": "image"},
                                             {"type": "text", "text": CONTEXT}]}]
    text = vlm.processor.apply_chat_template(messages, add_generation_prompt=True,
                                             tokenize=False)
    assert text.count("<image>") == 1 and CONTEXT in text
    inputs = vlm.processor(text=text, images=[Image.fromarray(image(3))], return_tensors="pt")
    with torch.inference_mode():
        ids = vlm.model.generate(**inputs, do_sample=False, max_new_tokens=6)
    n = inputs["input_ids"].shape[1]
    expected = vlm.tokenizer.decode(ids[0, n:], skip_special_tokens=True)
    assert vlm.generate(req).text == expected


def test_text_request_on_a_vlm_uses_the_text_path(vlm: LocalModel) -> None:
    out = vlm.generate(request())
    assert out.new_tokens > 0 and out.text
    assert "images" not in out.meta and "cache_len" in out.meta  # the prefix-cache path
    again = vlm.generate(request())
    assert again.text == out.text
    assert again.cached_tokens > 0 and not again.meta["rebuilt"]
    prefix, rest = vlm.prompt_ids(SYSTEM, CONTEXT)
    ids = torch.tensor([prefix + rest])
    with torch.inference_mode():
        ref = vlm.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                 do_sample=False, max_new_tokens=8)
    assert out.text == vlm.tokenizer.decode(ref[0, ids.shape[1]:], skip_special_tokens=True)


def test_greedy_image_answers_are_deterministic(vlm: LocalModel) -> None:
    req = request(image(4), image(5, size=24))
    first, second = vlm.generate(req), vlm.generate(req)
    assert first.text == second.text and first.new_tokens == second.new_tokens
    assert first.meta["images"] == 2


def test_image_request_stop_string(vlm: LocalModel) -> None:
    full = vlm.generate(request(image(6), max_new_tokens=8))
    tokens = full.text.split()
    assert len(tokens) >= 3
    stop = tokens[2]
    cut = full.text[:full.text.index(stop)]
    out = vlm.generate(request(image(6), max_new_tokens=8, stop=(stop,)))
    assert out.text == cut
    assert out.new_tokens <= full.new_tokens

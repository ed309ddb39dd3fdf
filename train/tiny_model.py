"""A tiny, randomly initialised Qwen2.5-VL-architecture model, built offline (`vrft tiny-model OUT`).

Tests, the demo and CI need a real Qwen2.5-VL (same classes, same processor, same time positions) that
fits in a few hundred kilobytes and cannot be downloaded here. The tokenizer is a byte-level BPE trained
on the prompt vocabulary of the declared tasks (so prompts stay short), with Qwen's special tokens; the
answer tags (<think>, <answer>, <glue>) are ordinary text, as in the real tokenizer. The processor is the
official `Qwen2_5_VLProcessor` with small pixel limits and `do_sample_frames=False`.
"""

from __future__ import annotations

from pathlib import Path

import schemas
from schemas.prompts import example_answer

SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|image_pad|>", "<|video_pad|>",
)

# A Qwen2.5-VL-style chat template: a default system turn, content given as a string or as parts
# ({"type": "video"} / {"type": "image"} / {"type": "text"}), and the assistant opener.
CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] != 'system' -%}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{%- for message in messages -%}{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'video' -%}{{ '<|vision_start|><|video_pad|><|vision_end|>' }}"
    "{%- elif part['type'] == 'image' -%}{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{%- elif part['type'] == 'text' -%}{{ part['text'] }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}{{ '<|im_end|>\\n' }}{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)

_FILLER = """\
the person opens the door and walks into the room
a man is sitting on the sofa holding a cup of coffee
she picks up the book from the table and starts reading
the dog runs across the grass towards the ball
someone closes the laptop and puts it in a bag
a woman takes off her shoes near the doorway
the car turns left at the crossing and stops
the boy throws the ball to his friend
what does the man do after he stands up
why did the girl look at the camera
how many people are in the kitchen
the first box of the cat is given, follow the cat
0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 25 30 45 60 90 120
0.00 to 5.50, 2.25 to 7.75, 10.00 to 14.40, 3.1 and 8.9
[(1.5, 4.0), (6.25, 9.75)] [[0.10, 0.20, 0.55, 0.80], [0.12, 0.22, 0.57, 0.81]]
(A) (B) (C) (D) (E) A B C D E
"""


def tokenizer_corpus() -> list[str]:
    """Text the tokenizer learns merges from: the declared tasks' prompt pieces plus everyday lines."""
    lines: list[str] = []
    for task in schemas.tasks():
        lines += [task.intro, task.think_hint, task.doc, example_answer(task, True), example_answer(task, False)]
        for lt in task.labels:
            lines += [lt.answer_format, lt.answer_example]
    lines += [
        "First think it through inside <think> </think>. Then write, inside <answer> </answer>:",
        "Do not explain. Write, inside <answer> </answer>: Your reply must have this shape:",
        "<think> </think> <answer> </answer> <glue> </glue> <timestep> </timestep>",
        "You are a helpful assistant. system user assistant",
    ]
    lines += _FILLER.splitlines()
    return [line for line in lines for _ in range(3)]  # repeat: BPE needs counts


def build_tokenizer(vocab_size: int = 512):
    """Byte-level BPE with Qwen's special tokens, wrapped as a fast tokenizer with the chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(tokenizer_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
        padding_side="left",
        model_max_length=32768,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_processor(tokenizer, min_pixels: int = 56 * 56, max_pixels: int = 28 * 28 * 64):
    """The official Qwen2.5-VL processor classes with small pixel limits and no frame sampling."""
    from transformers import Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}
    return Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=size),
        video_processor=Qwen2VLVideoProcessor(size=size, do_sample_frames=False, cap_pixels_per_frame=False),
        tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE,
    )


def tiny_config(tokenizer, text_overrides: dict | None = None, vision_overrides: dict | None = None):
    """Qwen2_5_VLConfig at toy scale; the overrides let benches grow it (bench/gpu_check.py)."""
    from transformers import Qwen2_5_VLConfig

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = dict(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0, "mrope_section": [2, 3, 3]},
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
    )
    text.update(text_overrides or {})
    vision = dict(
        depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=text["hidden_size"],
        patch_size=14, temporal_patch_size=2, spatial_merge_size=2, window_size=112,
        fullatt_block_indexes=[1], tokens_per_second=2,
    )
    vision.update(vision_overrides or {})
    return Qwen2_5_VLConfig(
        text_config=text, vision_config=vision,
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )


def build_tiny_model(seed: int = 0, vocab_size: int = 512):
    """(model, processor): random weights from `seed`, fully offline."""
    import torch
    from transformers import GenerationConfig, Qwen2_5_VLForConditionalGeneration

    tokenizer = build_tokenizer(vocab_size)
    processor = build_processor(tokenizer)
    config = tiny_config(tokenizer)
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config)
    eos = [tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")]
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=eos[1], bos_token_id=eos[1])
    return model, processor


def save_tiny_model(out: str | Path, seed: int = 0, vocab_size: int = 512) -> Path:
    """Build and save model + processor with `save_pretrained`; returns the folder."""
    out = Path(out)
    model, processor = build_tiny_model(seed=seed, vocab_size=vocab_size)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out

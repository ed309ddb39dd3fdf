"""GRPO training of video LMs on vrft's training shards (see train/trainer.py for the algorithm).

    vrft tiny-model runs/tiny            # an offline toy Qwen2.5-VL to try things on
    vrft train train/configs/tiny_cpu.yaml model.path=runs/tiny data.shards=DIR
"""

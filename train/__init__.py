"""GRPO training of video LMs on vrft's training shards (see train/trainer.py for the algorithm).

    vrft demo                            # among others: runs/demo/warm-model, runs/demo/shards-train
    vrft train train/configs/tiny_cpu.yaml model.path=runs/demo/warm-model data.shards=runs/demo/shards-train
"""

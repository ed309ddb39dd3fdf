"""vrft command line: parses arguments, calls schemas/rewards/pipelines/train, prints progress."""

__version__ = "0.1.0"

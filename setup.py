"""For Beam's --setup_file: Dataflow builds an sdist of vrft from here and installs it on each worker.

Everything is declared in pyproject.toml. The worker container (pipelines/dataflow/Dockerfile)
already holds the worker's dependencies and sets PIP_NO_DEPS, so only vrft's code is installed.
"""

from setuptools import setup

setup()

"""`vrft label`: reward labels per sample (G completions from a model, scored by a profile) as a Beam job.

inputs (units of work) -> handler (RunInference's model step) -> job (the graph, run, resume) -> output
(the label folder); sampler: seeded per-row sampling; settings: what a run is given.
"""

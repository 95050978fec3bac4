"""Run housekeeping: what a run leaves behind and finds at its start, beside the configuration.

* :mod:`~lindiff.pipeline.runs.start` -- the start of a Snakemake run: stale locks of a killed
  run, corrupt artifacts forced to rebuild, the W&B "unreachable" note cleared.
* :mod:`~lindiff.pipeline.runs.integrity` -- the structural check of an artifact and the
  quarantine of a corrupt input.
* :mod:`~lindiff.pipeline.runs.processes` -- the registry of running Snakemake processes, a job's
  parent watch and its start time.
"""

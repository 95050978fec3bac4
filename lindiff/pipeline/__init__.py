"""The pipeline layer: configuration, sweep levels and paths, jobs, tracking, aggregation.

Only this package knows about Hydra (:mod:`~lindiff.pipeline.config`), W&B
(:mod:`~lindiff.pipeline.tracking`) and the ``snakemake`` object of rule scripts
(:mod:`~lindiff.pipeline.jobs`); the science packages (``lindiff.data``, ``lindiff.linear``,
``lindiff.deep``, ``lindiff.plots``, ``lindiff.studies``) import nothing from it.
"""

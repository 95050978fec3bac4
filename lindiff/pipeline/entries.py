"""Configuration entries to library objects: a schedule entry to its noise levels, a sampler entry
to its :class:`~lindiff.diffusion.samplers.Sampler`, a model size to its training config, a GAHB
split to its data config.  What the rule scripts and the checks build from the typed config.
"""

from __future__ import annotations

from omegaconf import OmegaConf

from lindiff.errors import ConfigError
from lindiff.linear.schedules import Schedule, make_schedule
from lindiff.pipeline.schema import DESIGNED, SPECTRAL


def deep_train_config(cfg, size: str, section: str = "deep"):
    """The :class:`lindiff.deep.config.TrainConfig` of the model variant ``<section>.sizes.<size>``
    (``deep`` or ``gahb``; a ConfigError naming that key when its overrides are not valid)."""
    from lindiff.deep.config import preset_config

    models = cfg[section]
    overrides = OmegaConf.to_container(models.sizes[size], resolve=True) if models.sizes[size] else {}
    try:
        return preset_config(str(models.preset), overrides)
    except ConfigError as exc:
        raise ConfigError(f"{section}.sizes.{size}: {exc}") from None


def multiscale_train_config(cfg, scale: str = "flat", rf="full"):
    """The :class:`lindiff.deep.config.TrainConfig` of the receptive-field study's model ``(scale, rf)``:
    ``multiscale.train`` for ``sweep.multiscale.epochs``, with the model's RF, bands and noise range
    (:func:`lindiff.studies.multiscale.model_config`); a ConfigError naming the key when invalid."""
    from lindiff.deep.config import TrainConfig
    from lindiff.studies.multiscale import model_config

    ms = cfg.multiscale
    try:
        base = TrainConfig.from_dict({**OmegaConf.to_container(ms.train, resolve=True),
                                      "epochs": int(cfg.sweep.multiscale.epochs)})
    except ConfigError as exc:
        raise ConfigError(f"multiscale.train: {exc}") from None
    if base.model.kind != "bfcnn" or base.model.receptive_field is not None or base.model.bands != 1:
        raise ConfigError(f"multiscale.train.model: the study's models are BF-CNNs whose RF, bands and conditioning "
                          f"it sets (kind=bfcnn, no receptive_field or bands), got {base.model.to_dict()}")
    try:
        return model_config(base, scale, str(rf), int(ms.levels), OmegaConf.to_container(ms.full, resolve=True))
    except ConfigError as exc:
        where = "multiscale.full" if scale == "flat" and str(rf) == "full" else f"sweep.multiscale.rf={rf}"
        raise ConfigError(f"{where}: {exc}") from None


def gahb_data_config(cfg, family: str, value) -> dict:
    """The data config (a ``data=calpha`` or ``data=disks`` entry, plain dict) of one GAHB split.

    C^α: ``gahb.calpha.data`` with ``alpha`` (and ``alpha_background`` when null) set to the
    point's regularity and ``n_total = sweep.gahb.n_train + gahb.calpha.n_test``.  Disks:
    ``gahb.disks.data`` with ``n_total = max(sweep.gahb.n) + sweep.gahb.disk_images``, so that
    every training set is a prefix of one generated set and the test images (its last rows) are
    the same for every ``n``.
    """
    data = OmegaConf.to_container(cfg.gahb[family].data, resolve=True, enum_to_str=True)
    n_train, n_test = gahb_sizes(cfg, family, value)
    if family == "calpha":
        data.update(alpha=float(value), n_total=n_train + n_test)
        if data.get("alpha_background") is None:
            data["alpha_background"] = float(value)
    else:
        data["n_total"] = max(int(n) for n in cfg.sweep.gahb.n) + n_test
    return data


def gahb_sizes(cfg, family: str, value) -> tuple[int, int]:
    """``(n_train, n_test)`` of a GAHB split: its training rows are the first ``n_train`` of the
    generated data, its test rows the last ``n_test``."""
    g = cfg.sweep.gahb
    if family == "calpha":
        return int(g.n_train), int(cfg.gahb.calpha.n_test)
    return int(value), int(g.disk_images)


def sampler_levels_from_params(params, T: int) -> Schedule:
    """The noise levels of a hand schedule entry (``diffusion.schedules.<name>``) with ``T`` steps;
    a ``designed`` one is the artifact of the workflow's ``sampler_levels`` rule."""
    from lindiff.diffusion.schedules import noise_levels

    if params["shape"] == DESIGNED:
        raise ConfigError("a designed sampler schedule comes from the data: load it from its levels artifact")
    return noise_levels(str(params["shape"]), int(T), **dict(params["params"]))


def sampler_from_params(params):
    """The :class:`lindiff.diffusion.samplers.Sampler` of a ``diffusion.samplers.<name>`` entry."""
    from lindiff.diffusion.samplers import Sampler

    return Sampler(str(params["kind"]), eta=float(params["eta"]), solver=str(params["solver"]))


def ab_schedule_params(cfg) -> dict:
    """The study's schedule entry: ``schedules.<sweep.generalization.schedule>`` with its
    ``sigma_max`` replaced by ``sweep.generalization.sigma_max`` when that is set."""
    g = cfg.sweep.generalization
    params = dict(OmegaConf.to_container(cfg.schedules[g.schedule], resolve=True, enum_to_str=True))
    if g.sigma_max is not None:
        params["sigma_max"] = float(g.sigma_max)
    return params


def schedule_from_params(params, T: int) -> Schedule:
    """A schedule from its config entry (``name, sigma_max, scale, ratio``) with ``T`` steps.

    ``scale: theorem`` is Theorem 4.3's ``sigma_t = sigma_max / T``; ``scale: sigma_max``
    scales the shape so that ``sigma_bar[T] = sigma_max``.  The ``spectral`` schedule depends
    on the data: it is the artifact of the workflow's ``design_schedule`` rule
    (:func:`lindiff.linear.design.design_schedule`), not a function of its parameters.
    """
    if params["name"] == SPECTRAL:
        raise ConfigError("the spectral schedule is designed from the data: load it from its design artifact")
    if params["scale"] == "theorem":
        return make_schedule(params["name"], T, step=params["sigma_max"] / T, ratio=params["ratio"])
    return make_schedule(params["name"], T, sigma_max=params["sigma_max"], ratio=params["ratio"])


def schedule_for(cfg, name: str, T: int) -> Schedule:
    """The configured schedule ``name`` with ``T`` steps."""
    return schedule_from_params(cfg.schedules[name], T)


def design_components(params, k: int) -> int:
    """Number of target components of a spectral design: ``design.components`` or ``learn.k``."""
    components = params["design"]["components"] if isinstance(params, dict) else params.design.components
    return int(k if components is None else components)

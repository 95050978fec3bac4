"""The configuration schema: one structured config per group option, choices as enums.

:func:`lindiff.pipeline.config.apply_schema` merges the composed Hydra config into
:class:`LindiffConfig`, with ``data`` typed by the schema of the chosen data set
(``DATA_SETS[name].schema``, :mod:`lindiff.pipeline.datasets`), so a wrong type, an unknown key or a value outside a choice fails
naming the key.  Numeric bounds are declared on the fields (``metadata={"min": ...}``,
``{"positive": True}``) and checked by :func:`lindiff.pipeline.checks.check_declared`;
only the checks that relate several keys or the data are written by hand
(:mod:`lindiff.pipeline.checks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from omegaconf import MISSING

from lindiff.deep.config import FIG7_CONTROLS, JACOBIAN_METHODS
from lindiff.diffusion.denoisers import DENOISERS
from lindiff.diffusion.design import OBJECTIVES as SAMPLER_OBJECTIVES
from lindiff.diffusion.samplers import ODE_SOLVERS, SAMPLERS
from lindiff.diffusion.schedules import SAMPLER_SCHEDULES
from lindiff.linear.design import INJECTION_MODES, OBJECTIVES
from lindiff.linear.schedules import SCHEDULES
from lindiff.pipeline.tracking import ALLOWED_MODES
from lindiff.studies.theory import CALIBRATION_REFERENCES, THEORY_DENOISERS

SPECTRAL = "spectral"  # schedule kind designed from the data (lindiff.linear.design.design_schedule)
DESIGNED = "designed"  # sampler schedule designed from the data (lindiff.diffusion.design.design_levels)

# Choices: StrEnums compare equal to their strings; resolved configs carry plain strings
# (OmegaConf.to_container(..., enum_to_str=True)).
LearnMethod = StrEnum("LearnMethod", {v: v for v in ("exact", "naive")})
NoiseModel = StrEnum("NoiseModel", {v: v for v in ("cumulative", "independent")})
Injection = StrEnum("Injection", {v: v for v in ("increment", "constant")})
WandbMode = StrEnum("WandbMode", {v: v for v in ALLOWED_MODES})
ScheduleScale = StrEnum("ScheduleScale", {v: v for v in ("sigma_max", "theorem")})
ScheduleKind = StrEnum("ScheduleKind", {v: v for v in (*SCHEDULES, SPECTRAL)})
ScheduleShape = StrEnum("ScheduleShape", {v: v for v in SCHEDULES})
DesignObjective = StrEnum("DesignObjective", {v: v for v in OBJECTIVES})
DesignInjection = StrEnum("DesignInjection", {v: v for v in INJECTION_MODES})
Device = StrEnum("Device", {v: v for v in ("auto", "cpu", "cuda")})
SamplerKind = StrEnum("SamplerKind", {v: v for v in SAMPLERS})
OdeSolver = StrEnum("OdeSolver", {v: v for v in ODE_SOLVERS})
SamplerShape = StrEnum("SamplerShape", {v: v for v in (*SAMPLER_SCHEDULES, DESIGNED)})
SamplerObjective = StrEnum("SamplerObjective", {v: v for v in SAMPLER_OBJECTIVES})
DenoiserKind = StrEnum("DenoiserKind", {v: v for v in DENOISERS})
MnistSplit = StrEnum("MnistSplit", {v: v for v in ("train", "test")})
JacobianMethod = StrEnum("JacobianMethod", {v: v for v in ("auto", *JACOBIAN_METHODS)})
Fig7Control = StrEnum("Fig7Control", {v: v for v in FIG7_CONTROLS})
TheoryDenoiser = StrEnum("TheoryDenoiser", {v: v for v in THEORY_DENOISERS})
CalibrationReference = StrEnum("CalibrationReference", {v: v for v in CALIBRATION_REFERENCES})

MIN1 = {"min": 1}
POSITIVE = {"positive": True}  # > 0 and finite
# a noise scale: positive, and small enough that its square summed over any T stays finite
NOISE_SCALE = {"positive": True, "min": 1e-6, "max": 1e150}  # squares neither underflow nor overflow
LEARNING_RATE = {"positive": True, "max": 1.0}  # Adam on softplus parameters: larger steps leave the design stuck
SEED_MAX = 2**63 - 1  # seeds are stored as int64 (tables, sidecars)
SEED = {"min": 0, "max": SEED_MAX}


def choices(enum) -> str:
    return ", ".join(e.value for e in enum)


# --------------------------------------------------------------------------- data (one schema per option)


@dataclass
class DataConfig:
    """Keys every data set has."""

    name: str = MISSING
    sigma_max: float = field(default=10.0, metadata=NOISE_SCALE)  # sigma_bar_T where x_T is noise dominated
    # cores of each multi-threaded job on this data (learn, deep training, sampling, Jacobians);
    # small data runs those jobs on one core each, side by side with the single-core stages
    threads: int = field(default=2, metadata=MIN1)


@dataclass
class DigitsData(DataConfig):
    """scikit-learn's 8x8 digits (embedded, no download)."""


@dataclass
class MnistData(DataConfig):
    dir: str | None = None   # the four IDX files; null = $LINDIFF_MNIST_DIR or the download cache
    download: bool = False
    split: MnistSplit = MnistSplit.train


@dataclass
class SpikedData(DataConfig):
    """The spiked covariance model (Eq. 9)."""

    d: int = field(default=200, metadata=MIN1)
    n_total: int = field(default=2000, metadata={"min": 2})
    lambdas: list[float] = field(default_factory=lambda: [5.0, 3.0, 2.0])
    floor: float = 0.0
    data_seed: int = field(default=0, metadata=SEED)


@dataclass
class CAlphaData(DataConfig):
    """Geometric C^α images (lindiff.data.make_calpha): two textures split by a C^α contour."""

    size: int = field(default=32, metadata={"min": 8})  # pixels per side
    n_total: int = field(default=2000, metadata={"min": 2})
    alpha: float = field(default=2.0, metadata=POSITIVE)  # the contour's regularity
    alpha_background: float | None = None  # the textures' regularity; null = alpha
    intensities: list[float] = field(default_factory=lambda: [0.3, 0.7])  # above, below the contour
    contour_amplitude: float = 0.12  # std of the contour's row offset, as a fraction of size
    texture: float = 0.05  # std of each texture around its mean
    blur: float = 0.5  # pixels
    data_seed: int = field(default=0, metadata=SEED)


@dataclass
class DisksData(DataConfig):
    """One disk on a flat background (lindiff.data.make_disks): a five-dimensional manifold."""

    size: int = field(default=32, metadata={"min": 8})  # pixels per side
    n_total: int = field(default=2000, metadata={"min": 2})
    radius: list[float] | None = None  # [min, max] in pixels; null = [size / 8, size / 4]
    foreground: list[float] = field(default_factory=lambda: [0.6, 1.0])
    background: list[float] = field(default_factory=lambda: [0.0, 0.4])
    edge: float = field(default=0.5, metadata=POSITIVE)  # width of the Gaussian edge profile, pixels
    data_seed: int = field(default=0, metadata=SEED)


@dataclass
class FileData(DataConfig):
    path: str = MISSING  # .npy (n, d) or .npz with X (and optional labels)




# --------------------------------------------------------------------------- schedules


@dataclass
class DesignConfig:
    """``schedule=spectral``: options of :func:`lindiff.linear.design.design_schedule`."""

    objective: DesignObjective = DesignObjective.w2
    injection: DesignInjection = DesignInjection.free
    steps: int = field(default=300, metadata=MIN1)
    lr: float = field(default=0.05, metadata=LEARNING_RATE)
    init: ScheduleShape = ScheduleShape.linear      # initial shape of the increments
    sigma_max_bounds: list[float] | None = None   # bounds on sigma_bar_T; null = (0.1, 1) * lambda_0
    free_initial_std: bool = False
    components: int | None = None    # target components; null = learn.k
    seed: int = field(default=0, metadata=SEED)
    # After the learn, re-fit the injected stds and the std of xi_T to the learned chain at each
    # rank (exact second moment, lindiff.linear.design.refine_injection); the schedule is unchanged.
    refine: bool = True


@dataclass
class ScheduleConfig:
    name: ScheduleKind = MISSING
    sigma_max: float = field(default=10.0, metadata=NOISE_SCALE)
    scale: ScheduleScale = ScheduleScale.sigma_max
    ratio: float = field(default=100.0, metadata={"min": 1.0})  # geometric: sigma_bar from sigma_max / ratio
    # Only for name=spectral (designed from the data's spectrum before learning).
    design: DesignConfig | None = None


# --------------------------------------------------------------------------- sweeps


ASCENT = "ascent"  # the blind models' sampler (deep.sampler), a value of sweep.deep.sampler


@dataclass
class DeepSweep:
    """The deep study (Fig. 7, sample quality): one model per (n, size, seed); each model is
    sampled by every sampler that applies to it: ``ascent`` for a blind size, every
    ``diffusion.samplers`` key listed here × ``schedule`` × ``T`` for a noise-conditional one."""

    n: list[int] = field(default_factory=list)
    size: list[str] = field(default_factory=lambda: ["default"])
    seed: list[int] = field(default_factory=lambda: [0])
    sampler: list[str] = field(default_factory=lambda: [ASCENT])
    schedule: list[str] = field(default_factory=lambda: ["vplinear"])  # diffusion.schedules keys
    T: list[int] = field(default_factory=lambda: [1000])
    # Fig. 7's controls taken at each sampler run's path points (lindiff.studies.fig7_controls)
    control: list[Fig7Control] = field(default_factory=list)


@dataclass
class GeneralizationDeep:
    """The deep part of the A/B study (:class:`GeneralizationSweep`); empty ``n`` = none."""

    n: list[int] = field(default_factory=list)
    size: str = "quick"
    n_samples: int = field(default=16, metadata=MIN1)
    # Training steps per model, whatever n (None: the steps the size's preset takes on a whole half).
    steps: int | None = field(default=None, metadata=MIN1)
    # Overrides of deep.sampler for the A/B samples (sample_ascent's sigma_0, sigma_final, h0, ...).
    sampler: dict[str, Any] = field(default_factory=dict)


@dataclass
class GeneralizationSweep:
    """Memorization vs generalization (Kadkhodaie et al.): models learned on the first ``n``
    samples of two disjoint halves A and B, sampled with the same seeds.  Empty ``n`` = off."""

    n: list[int] = field(default_factory=list)
    seed: list[int] = field(default_factory=lambda: [0])
    schedule: str = "linear"
    T: int = field(default=65, metadata=MIN1)
    rank: int = field(default=20, metadata=MIN1)
    sigma_max: float | None = field(default=None, metadata=NOISE_SCALE)  # None: the schedule's own sigma_max
    n_samples: int = field(default=100, metadata=MIN1)
    injection: bool = True  # generate.injection noise between steps (pixel-space, shared by A and B)
    centered: bool = True  # centered chains, cosines about the data mean
    deep: GeneralizationDeep = field(default_factory=GeneralizationDeep)


@dataclass
class SamplersSweep:
    """The samplers study (Benita et al.): one point per (n, seed, schedule, T, sampler, denoiser);
    ``schedule`` and ``sampler`` name entries of ``diffusion.schedules`` and ``diffusion.samplers``.
    Empty ``n`` = off."""

    n: list[int] = field(default_factory=list)
    seed: list[int] = field(default_factory=lambda: [0])
    schedule: list[str] = field(default_factory=lambda: ["vplinear", "vpcosine", "karras", "designed"])
    T: list[int] = field(default_factory=lambda: [10])
    sampler: list[str] = field(default_factory=lambda: ["ddpm", "ddim"])
    denoiser: list[DenoiserKind] = field(default_factory=lambda: [DenoiserKind.wiener])
    # Optional union of grids: each entry overrides some axes above (as sweep.grids does).
    grids: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class GahbSweep:
    """The GAHB study (Kadkhodaie et al.) on synthetic images with known geometry: one blind
    denoiser per C^α regularity ``alpha`` and per disk training-set size ``n``, for every model
    size (``gahb.sizes``) and seed.  Empty ``alpha`` and ``n`` = off."""

    alpha: list[float] = field(default_factory=list)  # C^α models: the contour's (and textures') regularity
    n: list[int] = field(default_factory=list)  # disk models: training images
    size: list[str] = field(default_factory=lambda: ["default"])  # gahb.sizes keys
    seed: list[int] = field(default_factory=lambda: [0])  # weights, training draws, the noise of the measurements
    n_train: int = field(default=4000, metadata={"min": 2})  # C^α training images (every alpha)
    steps: int = field(default=9000, metadata=MIN1)  # optimizer steps per model, the same for every alpha and n
    disk_images: int = field(default=20, metadata=MIN1)  # held-out disks at which the Jacobians are taken


@dataclass
class MultiscaleSweep:
    """The receptive-field study (Kadkhodaie, Guth, Mallat & Simoncelli): per training set
    (``n``, ``seed``) of the sweep's data and per ``wavelet``, flat and multi-scale denoisers at each
    receptive field ``rf``.  Empty ``n`` = off."""

    n: list[int] = field(default_factory=list)  # training images (a training set of the sweep's data)
    seed: list[int] = field(default_factory=lambda: [0])  # the training set, the weights, the draws
    rf: list[int] = field(default_factory=lambda: [5, 9, 13])  # receptive fields (odd sides, in pixels of each grid)
    wavelet: list[str] = field(default_factory=lambda: ["haar"])  # orthogonal wavelets of PyWavelets
    epochs: int = field(default=10, metadata=MIN1)  # the training of every model (multiscale.train the rest)


@dataclass
class TheorySweep:
    """The theory-vs-network study: per noise-conditional deep model (``n``, ``size``, ``seed``, as in
    ``sweep.deep``) and sampler run (``sampler`` × ``schedule`` × ``T``), the network and every
    analytic denoiser of ``theory.denoisers`` sampled from the same seeds.  Empty ``n`` = off."""

    n: list[int] = field(default_factory=list)
    size: list[str] = field(default_factory=lambda: ["ddpm"])  # deep.sizes keys of noise-conditional models
    seed: list[int] = field(default_factory=lambda: [0])
    sampler: list[str] = field(default_factory=lambda: ["ddim"])  # diffusion.samplers keys
    schedule: list[str] = field(default_factory=lambda: ["vplinear"])  # diffusion.schedules keys
    T: list[int] = field(default_factory=lambda: [20])


@dataclass
class SweepConfig:
    name: str = MISSING
    n: list[int] = MISSING
    rank: list[int] = MISSING
    T: list[int] = MISSING
    schedule: list[str] = MISSING
    seed: list[int] = field(default_factory=lambda: [0])
    classes: list[str] = field(default_factory=lambda: ["all"])
    fig3_indices: list[int] = field(default_factory=lambda: [0, 5, 10])
    # Optional union of grids: each entry overrides some axes of the base grid above.
    grids: list[dict[str, Any]] = field(default_factory=list)
    # Deep-denoiser models (Fig. 7): one per (n, size, seed); empty n = none.
    deep: DeepSweep = field(default_factory=DeepSweep)
    # Memorization vs generalization study (A/B halves); empty n lists = off.
    generalization: GeneralizationSweep = field(default_factory=GeneralizationSweep)
    # Samplers and their spectral transfer function (diffusion.*); empty n = off.
    samplers: SamplersSweep = field(default_factory=SamplersSweep)
    # Geometry-adaptive harmonic bases on C^α images and disks (gahb.*); empty alpha and n = off.
    gahb: GahbSweep = field(default_factory=GahbSweep)
    # Flat vs multi-scale wavelet denoisers at each receptive field (multiscale.*); empty n = off.
    multiscale: MultiscaleSweep = field(default_factory=MultiscaleSweep)
    # Analytic local denoisers beside a trained network on shared seeds (theory.*); empty n = off.
    theory: TheorySweep = field(default_factory=TheorySweep)


# --------------------------------------------------------------------------- stages


@dataclass
class DeepJacobianConfig:
    """``deep.jacobian``: the Fig. 7 analysis along the recorded paths."""

    K: int = field(default=20, metadata=MIN1)  # top eigenvectors traced
    n_points: int = field(default=30, metadata={"min": 2})  # points per path, log-spaced in sigma
    sigma_max: float = field(default=1.0, metadata=POSITIVE)  # highest noise level analysed (data units)
    method: JacobianMethod = JacobianMethod.auto
    n_boot: int = field(default=200, metadata=MIN1)  # bootstrap resamples of the paths (Fig. 7's controls)
    n_perm: int = field(default=2000, metadata=MIN1)  # shuffles of the permutation null for rho


@dataclass
class LinearChainConfig:
    """``deep.quality.linear``: the class-conditioned linear chain of the quality table."""

    rank: int = field(default=30, metadata=MIN1)
    T: int = field(default=65, metadata=MIN1)
    schedule: str = "linear"  # a schedules key


@dataclass
class DeepQualityConfig:
    """``deep.quality``: the sample-quality table (lindiff.deep.quality)."""

    # generated samples per (model, sampler), and held-out real images in the Frechet reference and
    # in the real "floor" set each (one size, so the finite-sample bias of the distance is the same)
    n_samples: int = field(default=500, metadata={"min": 2})
    confidence: float = field(default=0.9, metadata={"min": 0.0, "max": 1.0})
    classifier: dict[str, Any] = field(default_factory=dict)  # overrides of the classifier preset (the data's name)
    linear: LinearChainConfig = field(default_factory=LinearChainConfig)


@dataclass
class DeepConfig:
    enabled: bool = False
    preset: str = "digits"
    device: Device = Device.auto
    sizes: dict[str, Any] = field(default_factory=dict)
    sampler: dict[str, Any] = field(default_factory=dict)  # the coarse-to-fine ascent (sampler=ascent)
    paths: int = field(default=16, metadata=MIN1)  # recorded paths per (model, sampler): the Fig. 7 Jacobians
    record_sigma: float = field(default=1.0, metadata=POSITIVE)  # record every step below this level (data units)
    clip_denoised: bool = True  # DDPM/DDIM/ODE runs clip each x0-estimate to [0, 1] (DDPM's clip_denoised)
    # classifier-free guidance weight w of class-conditional sizes (model.classes > 0): eps + w (eps_c - eps_u)
    guidance: float = field(default=0.0, metadata={"min": 0.0})
    jacobian: DeepJacobianConfig = field(default_factory=DeepJacobianConfig)
    quality: DeepQualityConfig = field(default_factory=DeepQualityConfig)
    psnr_sigmas: list[float] = field(default_factory=lambda: [0.1, 0.2, 0.4])
    n_test: int = field(default=500, metadata=MIN1)


@dataclass
class SamplerEntry:
    """``diffusion.samplers.<name>``: a sampler of :mod:`lindiff.diffusion.samplers`."""

    kind: SamplerKind = MISSING
    eta: float = field(default=0.0, metadata={"min": 0.0, "max": 1.0})  # ddim only
    solver: OdeSolver = OdeSolver.euler  # ode only


@dataclass
class LevelsEntry:
    """``diffusion.schedules.<name>``: a shape of :mod:`lindiff.diffusion.schedules` with its
    parameters (overrides of ``DEFAULTS[shape]``), or ``designed`` (from the data's spectrum)."""

    shape: SamplerShape = MISSING
    params: dict[str, float] = field(default_factory=dict)


@dataclass
class SamplerDesignConfig:
    """Options of :func:`lindiff.diffusion.design.design_levels` (``shape: designed``)."""

    objective: SamplerObjective = SamplerObjective.w2
    steps: int = field(default=300, metadata=MIN1)
    lr: float = field(default=0.05, metadata=LEARNING_RATE)
    bounds: list[float] = field(default_factory=lambda: [0.002, 80.0])
    init: str = "best"  # a shape of lindiff.diffusion.schedules, or best (the hand shape with the lowest objective)


@dataclass
class DiffusionConfig:
    """The samplers study (``sweep.samplers``): its samplers, schedules and sizes."""

    n_samples: int = field(default=10000, metadata=MIN1)  # generated samples per point (the measured spectrum)
    empirical_chunk: int = field(default=256, metadata=MIN1)  # rows the empirical denoiser weighs at once
    projection_rank: int = field(default=30, metadata=MIN1)  # rank of the projection denoiser (learned on the sampler's levels)
    deep_size: str = "quick"  # the deep model (deep.sizes) dropped in for denoiser=deep
    samplers: dict[str, SamplerEntry] = field(default_factory=dict)
    schedules: dict[str, LevelsEntry] = field(default_factory=dict)
    design: SamplerDesignConfig = field(default_factory=SamplerDesignConfig)


@dataclass
class GahbCalpha:
    """``gahb.calpha``: the C^α images of the study (``data`` is a ``data=calpha`` config whose
    ``alpha`` and ``alpha_background`` the sweep sets) and the denoising curve measured on them."""

    data: CAlphaData = field(default_factory=lambda: CAlphaData(name="calpha"))
    n_test: int = field(default=200, metadata=MIN1)  # held-out images of the curve
    sigmas: list[float] = field(default_factory=lambda: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5])
    slope_range: list[float] = field(default_factory=lambda: [0.02, 0.2])  # [min, max] sigma of the slope fit


@dataclass
class GahbDisks:
    """``gahb.disks``: the disks of the study (``data`` a ``data=disks`` config) and the Jacobian
    measurement at ``sweep.gahb.disk_images`` held-out noisy disks (the same for every ``n``)."""

    data: DisksData = field(default_factory=lambda: DisksData(name="disks"))
    sigmas: list[float] = field(default_factory=lambda: [0.02, 0.05, 0.1])
    K: int = field(default=20, metadata=MIN1)  # eigenvalues kept per Jacobian
    n_vectors: int = field(default=10, metadata=MIN1)  # eigenvectors of the first image shown


@dataclass
class GahbConfig:
    """The GAHB study's models and measurements (``sweep.gahb`` gives its points)."""

    preset: str = "geometric"  # lindiff.deep.config preset the sizes start from
    device: Device = Device.auto
    sizes: dict[str, Any] = field(default_factory=dict)  # named model variants: overrides of the preset
    psnr_sigmas: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.2])  # train_denoiser's PSNR vs linear
    calpha: GahbCalpha = field(default_factory=GahbCalpha)
    disks: GahbDisks = field(default_factory=GahbDisks)


@dataclass
class MultiscaleSynthesis:
    """``multiscale.synthesis``: the stochastic ascent of every synthesis (at each scale it starts
    at the noise level its model was trained up to, ``multiscale.train.sigma_max`` times the band's
    factor)."""

    n_samples: int = field(default=200, metadata={"min": 2})  # images drawn per synthesis
    h0: float = field(default=0.01, metadata={"positive": True, "max": 1.0})
    beta: float = field(default=0.5, metadata={"positive": True, "max": 1.0})
    sigma_final: float = field(default=0.01, metadata=POSITIVE)  # in each band's own units
    max_steps: int = field(default=1000, metadata=MIN1)


@dataclass
class MultiscaleConfig:
    """The receptive-field study's models and measurements (``sweep.multiscale`` gives its points)."""

    levels: int = field(default=2, metadata=MIN1)  # wavelet scales J of the images zero-padded to powers of two
    device: Device = Device.auto
    # every BF-CNN of the study: lindiff.deep.config TrainConfig fields, model a dict of DenoiserConfig
    # fields (the RF, bands and noise range are set per model)
    train: dict[str, Any] = field(default_factory=dict)
    full: dict[str, Any] = field(default_factory=dict)  # the flat full-RF reference: DenoiserConfig overrides
    n_test: int = field(default=500, metadata=MIN1)  # held-out images of the PSNR table
    psnr_sigmas: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.2, 0.4])
    synthesis: MultiscaleSynthesis = field(default_factory=MultiscaleSynthesis)


@dataclass
class TheoryConfig:
    """The theory-vs-network study's denoisers and measurements (``sweep.theory`` gives its points)."""

    denoisers: list[TheoryDenoiser] = field(default_factory=lambda: [TheoryDenoiser(v) for v in THEORY_DENOISERS])
    n_samples: int = field(default=64, metadata={"min": 2})  # shared seeds: samples per denoiser
    pool: int | None = field(default=None, metadata=MIN1)  # the analytic denoisers' images: the network's first (null: all)
    class_pools: bool = True  # a class-conditional network: each sample's class pool (else the whole set)
    patch_sizes: list[int] = field(default_factory=lambda: [1, 3, 5, 7, 9, 13])  # odd candidates of the calibration
    calibrate: CalibrationReference = CalibrationReference.network
    calibration_images: int = field(default=32, metadata=MIN1)  # held-out images the patch sizes are chosen on
    calibration_levels: int = field(default=6, metadata=MIN1)  # noise levels calibrated (the nearest one serves the others)
    pool_size: int | None = field(default=None, metadata=MIN1)  # the equivariant pool's patches (null: all)
    threshold: float = field(default=0.02, metadata={"positive": True, "max": 1.0})  # the locality masks
    mse_sigmas: list[float] = field(default_factory=lambda: [0.05, 0.1, 0.2, 0.4, 0.8])  # held-out MSE (data units)
    n_test: int = field(default=64, metadata=MIN1)  # held-out images of the MSE table
    n_boot: int = field(default=1000, metadata=MIN1)  # bootstrap resamples of the final-sample r²


@dataclass
class WandbConfig:
    mode: WandbMode = WandbMode.offline
    project: str = "lindiff"
    entity: str | None = None
    init_timeout: float = field(default=60.0, metadata=POSITIVE)


@dataclass
class LearnConfig:
    k: int = field(default=30, metadata=MIN1)
    method: LearnMethod = LearnMethod.exact
    noise: NoiseModel = NoiseModel.cumulative
    centered: bool = False


@dataclass
class GenerateConfig:
    n_samples: int = field(default=1000, metadata={"min": 2})  # a variance needs two samples
    n_trajectory: int = field(default=4, metadata=MIN1)  # Fig. 1 draws them
    injection: Injection = Injection.increment
    injection_scale: float = field(default=1.0, metadata={"min": 0.0})


@dataclass
class AnalyzeConfig:
    max_sin: float = field(default=0.1, metadata={"positive": True, "max": 1.0})  # a sine, in (0, 1]
    taus: list[float] = field(default_factory=lambda: [0.0, 0.25, 0.5, 1.0])


@dataclass
class LindiffConfig:
    data: Any = MISSING  # the schema of a data set (lindiff.pipeline.datasets.DATA_SETS), chosen by data.name
    schedules: dict[str, ScheduleConfig] = field(default_factory=dict)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    wandb: WandbConfig = field(default_factory=WandbConfig)
    learn: LearnConfig = field(default_factory=LearnConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    analyze: AnalyzeConfig = field(default_factory=AnalyzeConfig)
    deep: DeepConfig = field(default_factory=DeepConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    gahb: GahbConfig = field(default_factory=GahbConfig)
    multiscale: MultiscaleConfig = field(default_factory=MultiscaleConfig)
    theory: TheoryConfig = field(default_factory=TheoryConfig)
    results_dir: str = "results"
    # the most memory one job may need (MiB; null: this machine's memory); checked before any job runs
    max_job_mem_mb: int | None = field(default=None, metadata=MIN1)
    # the most points one grid study may expand to (the linear chain, the samplers study): a run
    # of 10^4 points plans ~3.5 10^4 jobs; beyond, split the sweep (docs/performance.md)
    max_points: int = field(default=10000, metadata=MIN1)

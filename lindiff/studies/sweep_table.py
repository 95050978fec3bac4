"""Cross-sweep tables of the linear chain: pick the slices of a sweep that each aggregate figure needs.

``points`` is a DataFrame with one row per sweep point: its axes (``data, cond, n, schedule, T,
seed, rank`` for the workflow's linear chain), then ``id, learn_dir, rank_dir`` (the workflow's
sweep table).  The axis columns are the ones before ``id`` (:func:`axes_of`), in the order points
sort by; :func:`summary_table` keeps them there, so the groups of every figure follow the sweep's
declared axes.  The functions here only select and reshape; every number comes from the per-point
artifacts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from lindiff.errors import DataError


def axes_of(table: pd.DataFrame) -> list[str]:
    """The axis columns of a sweep table or a summary: the columns before ``id``."""
    if "id" not in table.columns:
        raise DataError(f"a sweep table needs an id column after its axes; columns: {list(table.columns)}")
    return list(table.columns[: table.columns.get_loc("id")])


def other_axes(table: pd.DataFrame, *excluded: str) -> list[str]:
    """The axes that define a group of points in which ``excluded`` vary (in :func:`axes_of` order)."""
    return [axis for axis in axes_of(table) if axis not in excluded]


def summary_table(points: pd.DataFrame, metrics: list[Mapping]) -> pd.DataFrame:
    """One row per sweep point: its axes, its id and its ``metrics.json`` scalars (sorted by the axes)."""
    if len(points) != len(metrics):
        raise DataError(f"{len(points)} sweep points but {len(metrics)} metrics files")
    axes = axes_of(points)
    rows = []
    for (_, point), values in zip(points.iterrows(), metrics):
        scalars = {k: v for k, v in values.items() if k not in axes and not isinstance(v, (dict, list))}
        rows.append({**{a: point[a] for a in axes}, "id": point["id"], **scalars})
    table = pd.DataFrame(rows)
    for column in table.columns:  # JSON null -> NaN for numeric columns
        if column not in axes + ["id", "point"]:
            try:
                table[column] = pd.to_numeric(table[column])
            except (TypeError, ValueError):
                pass
    return table.sort_values(axes, ignore_index=True)


def _largest_group(points: pd.DataFrame, vary: str, keys: list[str]) -> pd.DataFrame:
    """Rows of the group (equal ``keys``) with the most distinct values of ``vary``.

    Ties go to unconditional chains, then to the largest values of ``keys``.
    """
    counts = points.groupby(keys)[vary].nunique().rename("count").reset_index()
    counts["unconditional"] = counts["cond"] == "all" if "cond" in keys else True
    counts = counts.sort_values(["count", "unconditional", *keys], ascending=False)
    chosen = counts.iloc[0][keys]
    mask = np.ones(len(points), dtype=bool)
    for key in keys:
        mask &= (points[key] == chosen[key]).to_numpy()
    return points[mask]


def dataset_size_tables(points: pd.DataFrame, sin_tables: Mapping[str, pd.DataFrame]) -> dict[int, pd.DataFrame]:
    """Fig. 3: ``n -> sin θ table`` for the learn group with the most training sizes."""
    group = _largest_group(points, "n", other_axes(points, "n", "rank"))  # sin θ is a learn point's
    return {int(row.n): sin_tables[row.learn_dir] for row in group.drop_duplicates("n").itertuples()}


def profiles_over_T(points: pd.DataFrame, profiles: Mapping[str, pd.DataFrame]):
    """Fig. 6: Eq. 26 profiles per ``T`` without and with injected noise, and the best one.

    ``profiles[rank_dir]`` has columns ``source, chain, index, c_mean, c_std, distance``.
    Returns ``(without {T: df}, with {T: df}, best df, natural df, best label)``.
    """
    group = _largest_group(points, "T", other_axes(points, "T"))
    without, with_noise, candidates = {}, {}, []
    for row in group.sort_values("T").itertuples():
        table = profiles[row.rank_dir]
        for chain, target in (("deterministic", without), ("injected", with_noise)):
            profile = table[(table["source"] == "generated") & (table["chain"] == chain)]
            target[int(row.T)] = profile
            candidates.append((float(profile["distance"].iloc[0]), int(row.T), chain, profile))
    distance, T, chain, best = min(candidates, key=lambda c: c[0])
    first = profiles[group.iloc[0]["rank_dir"]]
    natural = first[first["source"] == "natural"]
    return without, with_noise, best, natural, f"T = {T}, {chain} chain (distance {distance:.3f})"


POWER_EXTRA = ("chain_retention_ratio", "power_retention_ratio", "chain_energy_u0_predicted",
               "chain_energy_u0_exact", "power_energy_u0_predicted")


def power_iteration_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Energy on ``u_0`` vs ``T`` per schedule (chain and power iteration from the same ξ).

    Uses, per schedule, the (data, cond, n, seed, rank) group with the most values of T.
    Columns: ``schedule, T, n, rank, cond``, the measured ``chain_energy_u0`` and
    ``power_energy_u0``, the per-step rates ``chain_rate`` (geometric-mean ``c_1/c_0``) and
    ``power_rate`` (``λ_1²/λ_0²``), the ratios after ``T`` steps ``chain_retention_ratio``
    (``Π c_1 / Π c_0``) and ``power_retention_ratio`` (``(λ_1²/λ_0²)^T``), and the closed-form
    energies ``chain_energy_u0_predicted`` (diagonal model, measured cosines),
    ``chain_energy_u0_exact`` (exact second moment) and ``power_energy_u0_predicted``
    (NaN for metrics written before these existed).
    """
    rows = []
    for schedule, part in summary.groupby("schedule"):
        group = _largest_group(part, "T", other_axes(summary, "schedule", "T"))
        for _, row in group.sort_values("T").iterrows():
            rows.append({
                "schedule": schedule, "T": int(row["T"]), "n": int(row["n"]), "rank": int(row["rank"]),
                "cond": row["cond"],
                "chain_energy_u0": float(row["power/chain_energy_u0"]),
                "power_energy_u0": float(row["power/power_energy_u0"]),
                "chain_rate": float(row["power/chain_rate"]),
                "power_rate": float(row["power/power_rate"]),
                **{column: float(row.get(f"power/{column}", np.nan)) for column in POWER_EXTRA},
            })
    table = pd.DataFrame(rows)
    if table.empty:
        raise DataError("no sweep points for the power-iteration table")
    return table


def class_trajectories(points: pd.DataFrame, load: Callable[[str], np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """Fig. 1: one trajectory per class (class-conditioned points), else the first point's.

    ``load(rank_dir)`` returns the stored trajectory array ``(T + 1, n_traj, d)``.
    Returns ``(trajectories (T + 1, m, d), row labels)``.
    """
    conditioned = points[points["cond"] != "all"]
    if len(conditioned):
        group = _largest_group(conditioned, "cond", other_axes(points, "cond"))
        group = group.drop_duplicates("cond").sort_values("cond", key=lambda c: c.str[1:].astype(int))
        parts = [load(row.rank_dir)[:, :1] for row in group.itertuples()]
        return np.concatenate(parts, axis=1), [f"class {row.cond[1:]}" for row in group.itertuples()]
    first = points.iloc[0]
    trajectory = load(first["rank_dir"])
    return trajectory, [f"sample {i}" for i in range(trajectory.shape[1])]


CHAINS = ("deterministic", "injected")


def schedule_comparison(
    summary: pd.DataFrame, predicted_w2: Mapping[str, float], designed: Sequence[str]
) -> pd.DataFrame:
    """Designed (``schedule=spectral``) against hand schedules, by measured W2² to the data.

    Parameters
    ----------
    summary : DataFrame
        :func:`summary_table` of a sweep; needs ``spectral/<chain>/w2/measured`` and
        ``spectral/<chain>/w2/predicted_asymptotic`` for both chains (the analyze metrics).
    predicted_w2 : mapping point id -> float
        The design's own prediction of W2² over the point's ``rank`` components, per designed
        point (the closed-form spectrum of the design, or the exact variance of the learned chain
        when the injected noise was refined on it).
    designed : sequence of str
        Schedule keys that are designed.

    Returns
    -------
    DataFrame, one row per designed point: its axes, ``w2_predicted`` (design), ``w2_measured``
    (the injected chain, which the design targets), ``w2_measured_deterministic``, and for the
    hand schedules of the same ``(data, cond, n, seed, T, rank)``: ``best_hand_schedule``,
    ``best_hand_chain`` and ``best_hand_w2`` (smallest measured W2² over schedules and both
    chains; NaN when the group has no hand schedule), ``best_hand_w2_sweep`` (over the whole
    sweep at the same rank), and ``improvement`` = ``best_hand_w2 / w2_measured``.
    """
    columns = [f"spectral/{chain}/w2/measured" for chain in CHAINS]
    group = other_axes(summary, "schedule")  # a designed point's hand schedules differ only in the schedule
    missing = [c for c in columns + ["schedule", *group] if c not in summary.columns]
    if missing:
        raise DataError(f"summary lacks columns {missing} (analyze metrics of an older lindiff?)")
    designed = set(designed)
    hand = summary[~summary["schedule"].isin(designed)]
    rows = []
    for _, row in summary[summary["schedule"].isin(designed)].iterrows():
        if row["id"] not in predicted_w2:
            raise DataError(f"no design prediction for the designed point {row['id']}")
        out = {**{a: row[a] for a in ["schedule", *group]}, "id": row["id"],
               "w2_predicted": float(predicted_w2[row["id"]]),
               "w2_measured": float(row["spectral/injected/w2/measured"]),
               "w2_measured_deterministic": float(row["spectral/deterministic/w2/measured"])}
        same = hand
        for key in group:
            same = same[same[key] == row[key]]
        best = _best_hand(same)
        out.update(best_hand_schedule=best[0], best_hand_chain=best[1], best_hand_w2=best[2])
        out["best_hand_w2_sweep"] = _best_hand(hand[hand["rank"] == row["rank"]])[2]
        out["improvement"] = out["best_hand_w2"] / out["w2_measured"] if out["w2_measured"] > 0 else float("nan")
        rows.append(out)
    if not rows:
        raise DataError(f"no sweep point uses a designed schedule ({sorted(designed)})")
    return pd.DataFrame(rows).sort_values(group, ignore_index=True)


def _best_hand(rows: pd.DataFrame) -> tuple[str | None, str | None, float]:
    best = (None, None, float("nan"))
    for _, row in rows.iterrows():
        for chain in CHAINS:
            value = float(row[f"spectral/{chain}/w2/measured"])
            if np.isfinite(value) and not (value >= best[2]):
                best = (row["schedule"], chain, value)
    return best


def power_iteration_verdict(table: pd.DataFrame, min_rise: float = 0.02, gap: float = 0.1) -> dict[str, str]:
    """Plain statements of where Theorem 4.3's behaviour appears, one per schedule.

    The theorem says the deterministic chain converges to the leading component like power
    iteration as ``T`` grows.  For each schedule of a :func:`power_iteration_table` this
    compares its smallest and largest ``T``:

    * *appears*: the energy on ``u_0`` rises by at least ``min_rise``, the chain's ratio
      ``Π c_1 / Π c_0`` falls (it contracts toward ``u_0`` like power iteration's
      ``(λ_1²/λ_0²)^T``), and at the largest ``T`` the energy is within ``gap`` of power
      iteration's from the same noise;
    * *appears only in part*: it rises and contracts, but stays more than ``gap`` below
      power iteration;
    * *does NOT appear*: otherwise.

    Returns ``{schedule: sentence}`` with the numbers.
    """
    missing = [c for c in ("schedule", "T", "chain_energy_u0", "power_energy_u0", "chain_retention_ratio")
               if c not in table.columns]
    if missing:
        raise DataError(f"power-iteration table lacks columns {missing}")
    verdicts = {}
    for schedule, rows in table.groupby("schedule", sort=False):
        rows = rows.sort_values("T")
        first, last = rows.iloc[0], rows.iloc[-1]
        rise = float(last["chain_energy_u0"] - first["chain_energy_u0"])
        falls = bool(last["chain_retention_ratio"] < first["chain_retention_ratio"])
        numbers = (f"energy on u0 {first['chain_energy_u0']:.2f} -> {last['chain_energy_u0']:.2f} "
                   f"(power iteration {last['power_energy_u0']:.2f}), prod c1/prod c0 "
                   f"{first['chain_retention_ratio']:.2g} -> {last['chain_retention_ratio']:.2g} "
                   f"(T {int(first['T'])} -> {int(last['T'])})")
        if len(rows) < 2:
            verdicts[schedule] = f"{schedule}: one T only ({numbers}); no trend to judge"
        elif rise >= min_rise and falls:
            close = last["chain_energy_u0"] >= last["power_energy_u0"] - gap
            what = "appears" if close else "appears only in part (far below power iteration)"
            verdicts[schedule] = f"{schedule}: theorem's behaviour {what}: {numbers}"
        else:
            verdicts[schedule] = f"{schedule}: theorem's behaviour does NOT appear: {numbers}"
    return verdicts

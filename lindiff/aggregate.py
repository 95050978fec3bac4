"""Cross-sweep tables: pick the slices of a sweep that each aggregate figure needs.

``points`` is a DataFrame with one row per sweep point and columns ``data, cond, n,
schedule, T, seed, rank, id, learn_dir, rank_dir`` (the workflow's sweep table).  The
functions here only select and reshape; every number comes from the per-point artifacts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from lindiff.errors import DataError

AXES = ["data", "cond", "n", "schedule", "T", "seed", "rank"]


def summary_table(points: pd.DataFrame, metrics: list[Mapping]) -> pd.DataFrame:
    """One row per sweep point: its axes and its ``metrics.json`` scalars."""
    if len(points) != len(metrics):
        raise DataError(f"{len(points)} sweep points but {len(metrics)} metrics files")
    rows = []
    for (_, point), values in zip(points.iterrows(), metrics):
        scalars = {k: v for k, v in values.items() if k not in AXES and not isinstance(v, (dict, list))}
        rows.append({**{a: point[a] for a in AXES}, "id": point["id"], **scalars})
    table = pd.DataFrame(rows)
    for column in table.columns:  # JSON null -> NaN for numeric columns
        if column not in AXES + ["id", "point"]:
            try:
                table[column] = pd.to_numeric(table[column])
            except (TypeError, ValueError):
                pass
    return table.sort_values(AXES, ignore_index=True)


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
    group = _largest_group(points, "n", ["data", "cond", "schedule", "T", "seed"])
    return {int(row.n): sin_tables[row.learn_dir] for row in group.drop_duplicates("n").itertuples()}


def profiles_over_T(points: pd.DataFrame, profiles: Mapping[str, pd.DataFrame]):
    """Fig. 6: Eq. 26 profiles per ``T`` without and with injected noise, and the best one.

    ``profiles[rank_dir]`` has columns ``source, chain, index, c_mean, c_std, distance``.
    Returns ``(without {T: df}, with {T: df}, best df, natural df, best label)``.
    """
    group = _largest_group(points, "T", ["data", "cond", "n", "schedule", "seed", "rank"])
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


def power_iteration_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Energy on ``u_0`` vs ``T`` per schedule (chain and power iteration from the same ξ).

    Uses, per schedule, the (data, cond, n, seed, rank) group with the most values of T.
    """
    rows = []
    for schedule, part in summary.groupby("schedule"):
        group = _largest_group(part, "T", ["data", "cond", "n", "seed", "rank"])
        for _, row in group.sort_values("T").iterrows():
            rows.append({
                "schedule": schedule, "T": int(row["T"]), "n": int(row["n"]), "rank": int(row["rank"]),
                "cond": row["cond"],
                "chain_energy_u0": float(row["power/chain_energy_u0"]),
                "power_energy_u0": float(row["power/power_energy_u0"]),
                "chain_rate": float(row["power/chain_rate"]),
                "power_rate": float(row["power/power_rate"]),
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
        group = _largest_group(conditioned, "cond", ["data", "n", "schedule", "T", "seed", "rank"])
        group = group.drop_duplicates("cond").sort_values("cond", key=lambda c: c.str[1:].astype(int))
        parts = [load(row.rank_dir)[:, :1] for row in group.itertuples()]
        return np.concatenate(parts, axis=1), [f"class {row.cond[1:]}" for row in group.itertuples()]
    first = points.iloc[0]
    trajectory = load(first["rank_dir"])
    return trajectory, [f"sample {i}" for i in range(trajectory.shape[1])]

"""Rule compare_schedules: designed (schedule=spectral) vs hand schedules, predicted vs measured W2."""

import pandas as pd

from lindiff import artifacts, plots
from lindiff.linear import spectral
from lindiff.pipeline.jobs import rule_job
from lindiff.studies import sweep_table

with rule_job(snakemake) as job:  # snakemake: injected by Snakemake
    out = snakemake.output
    points = pd.DataFrame(snakemake.params.points)
    designed = list(snakemake.params.designed)
    summary = artifacts.read_parquet(snakemake.input.summary)

    # The design's prediction of record: the exact variance of the refined chain when the
    # injected noise was refined on the learned bases, else the closed form of the design.
    predicted_w2, closed_form_w2, predictions = {}, {}, {}
    for row in points[points["schedule"].isin(designed)].itertuples():
        predicted = artifacts.read_parquet(f"{row.learn_dir}/design/predicted_spectrum.parquet").iloc[: row.rank]
        eigvals = predicted["eigval"].to_numpy()
        closed_form_w2[row.id] = spectral.w2_to_data(predicted, eigvals)
        samples = artifacts.load_npz(f"{row.rank_dir}/samples.npz", {}, keys=("predicted_variance",))
        if "predicted_variance" in samples:
            predicted = predicted.assign(variance=samples["predicted_variance"])
        predicted_w2[row.id] = spectral.w2_to_data(predicted, eigvals)
        predictions[row.id] = predicted
    table = sweep_table.schedule_comparison(summary, predicted_w2, designed)
    table["w2_predicted_closed_form"] = table["id"].map(closed_form_w2)
    artifacts.write_parquet(out.table, table)

    # Right panel: the design with the largest improvement over the hand schedules, as spectra.
    focus = table.sort_values("improvement", ascending=False, na_position="last").iloc[0]
    rank_dirs = points.set_index("id")["rank_dir"]

    def injected_spectrum(point_id, chain="injected"):
        frame = artifacts.read_parquet(f"{rank_dirs[point_id]}/spectrum.parquet")
        frame = frame[frame["chain"] == chain]
        return frame.assign(variance=frame["measured"])

    spectra = {"spectral: measured": injected_spectrum(focus["id"]),
               "spectral: predicted": predictions[focus["id"]]}
    if isinstance(focus["best_hand_schedule"], str):
        group = sweep_table.other_axes(points, "schedule")  # the focus point's hand schedules
        hand = points[(points["schedule"] == focus["best_hand_schedule"])
                      & (points[group] == focus[group]).all(axis=1)]
        spectra[f"{focus['best_hand_schedule']} ({focus['best_hand_chain']}): measured"] = injected_spectrum(
            hand["id"].iloc[0], focus["best_hand_chain"])
    plots.save_figure(plots.schedule_comparison(table, spectra), out.fig)

    for row in table.itertuples():
        job.log.info("%s: W2 predicted %.4g, measured %.4g; best hand %s/%s %.4g", row.id, row.w2_predicted,
                     row.w2_measured, row.best_hand_schedule, row.best_hand_chain, row.best_hand_w2)
    job.tracker.log_table("schedule_comparison", table)
    job.tracker.log_image("schedule_comparison", out.fig)
    job.tracker.set_summary({"n_designed": len(table), "w2_measured_mean": float(table["w2_measured"].mean()),
                             "w2_predicted_mean": float(table["w2_predicted"].mean()),
                             "best_hand_w2_mean": float(table["best_hand_w2"].mean())})

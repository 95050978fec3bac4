"""lindiff.progress: bars that leave one final line in a log file."""

from __future__ import annotations


def test_progress_bar_in_a_file_leaves_one_final_line(tmp_path):
    from lindiff.progress import progress_bar

    with open(tmp_path / "rule.log", "w") as log:
        for _ in progress_bar(range(2000), desc="levels", file=log):
            pass
    text = (tmp_path / "rule.log").read_text()
    assert text.count("\r") <= 2 and text.endswith("\n")
    assert text.splitlines()[-1].strip().startswith("levels: 100%") and "2000/2000" in text

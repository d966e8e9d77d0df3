"""Published values go beside our rows only in their regime, and never replace ours."""

import json
import math

import pandas as pd

from qnn.bbs.published import PAPER_SETTINGS, beside_published, in_paper_regime, published_rates


def ours(*rows):
    return pd.DataFrame(rows, columns=["problem", "size", "method", "solved_pct"])


def test_published_values_join_the_rows_of_their_family_size_and_method():
    table = beside_published(ours(("knapsack_penalty", 20, "bbs", 65.0),
                                  ("knapsack_penalty", 25, "bbs_frozen", 20.0),
                                  ("knapsack_penalty", 15, "bbs", 95.0)), regime=True)
    assert table["solved_pct"].tolist() == [65.0, 20.0, 95.0]  # ours untouched
    assert table["published_paper_solved_pct"].tolist()[:1] == [98.0]
    assert math.isnan(table["published_paper_solved_pct"][2])  # the paper has no m = 15 row
    assert table["published_reproduction_solved_pct"].tolist()[1] == 21.0
    assert "published_paper_rel_error_pct" not in table  # only TSP m = 29 has one
    assert "family" not in table


def test_both_black_box_knapsacks_are_the_papers_knapsack_and_tsp_keeps_its_own_values():
    table = beside_published(ours(("knapsack_value", 25, "bbs", 95.0),
                                  ("knapsack_penalty", 25, "bbs", 25.0),
                                  ("tsp", 29, "bbs", 5.0),
                                  ("maxcut", 25, "bbs", 50.0)), regime=True)
    assert table["published_paper_solved_pct"].tolist()[:3] == [99.0, 99.0, 2.0]
    assert table["published_reproduction_solved_pct"].tolist()[:3] == [96.0, 96.0, 7.0]
    assert table["published_paper_rel_error_pct"].tolist()[2] == 6.58
    assert table.iloc[3].filter(like="published_").isna().all()  # our own extension


def test_no_published_value_out_of_the_papers_regime(tmp_path):
    table = ours(("knapsack_penalty", 20, "bbs", 65.0))
    assert beside_published(table, regime=False).equals(table)
    paper, fewer = tmp_path / "paper", tmp_path / "fewer"
    for folder, updates in ((paper, 200), (fewer, 100)):
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(
            {"bbs": {**PAPER_SETTINGS, "updates": updates}}))
    assert in_paper_regime([paper]) and not in_paper_regime([paper, fewer])


def test_published_rates_of_one_method_come_from_every_source_that_printed_one():
    assert published_rates("knapsack_value", 20, "hill_climbing") == [("paper", 84.0)]
    assert published_rates("knapsack_penalty", 20, "bbs") == [("paper", 98.0),
                                                              ("reproduction", 99.0)]
    assert published_rates("knapsack_value", 20, "random") == [("reproduction", 81.0)]
    assert published_rates("knapsack_value", 15, "sa") == []
    assert published_rates("maxcut", 20, "sa") == []  # our own extension


def test_a_named_variant_of_a_method_stands_beside_that_methods_published_values():
    table = beside_published(ours(("knapsack_value", 30, "bbs, logit flips", 73.3),
                                  ("knapsack_value", 30, "bbs_frozen", 0.0),
                                  ("knapsack_value", 20, "hill_climbing, restarts", 100.0)),
                             regime=True)
    assert table["published_paper_solved_pct"].tolist()[::2] == [93.0, 84.0]
    assert table["published_reproduction_solved_pct"].tolist()[0] == 73.0
    assert math.isnan(table["published_paper_solved_pct"][1])  # another method, not a variant
    assert list(table["method"]) == ["bbs, logit flips", "bbs_frozen", "hill_climbing, restarts"]

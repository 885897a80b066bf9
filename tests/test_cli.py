import pytest

from skdeepgen.__main__ import METHODS, build_parser, format_table, main


def test_cli_runs_and_prints_table(capsys):
    results = main(["--n-samples", "150", "--seeds", "0", "1", "--max-epochs", "1"])
    out = capsys.readouterr().out
    assert set(results) == set(METHODS)
    for name in METHODS:
        assert name in out
        assert len(results[name]["acc"]) == 2
        assert all(0 <= a <= 1 for a in results[name]["acc"])
    assert "ACC" in out and "NMI" in out and "ARI" in out and "seconds" in out


def test_cli_help_lists_options(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for option in ("--dataset", "--data-home", "--seeds", "--max-epochs", "--precision"):
        assert option in text


def test_cli_rejects_unknown_dataset():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--dataset", "imagenet"])


def test_format_table_shows_mean_and_std():
    table = format_table({"KMeans": {"acc": [0.5, 0.7], "nmi": [0.1, 0.1], "ari": [0.2, 0.2], "seconds": [1, 3]}})
    assert "0.6000 +- 0.1000" in table and "2.0 +- 1.0" in table


def test_cli_generation_compares_gamn_and_gmmn(capsys):
    results = main(["--generation", "--generation-steps", "3", "--seeds", "0"])
    out = capsys.readouterr().out
    assert set(results) == {"GAMN", "GMMN"} and "modes (of 8)" in out and "high quality" in out
    for rows in results.values():
        assert 0 <= rows["modes"][0] <= 8 and 0 <= rows["high_quality"][0] <= 1 and rows["mmd"][0] > 0

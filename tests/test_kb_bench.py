"""bench/kb_search.py runs end to end at a tiny size (the figures are for the report)."""
from __future__ import annotations


def test_the_search_benchmark_runs(tmp_path, capsys):
    from bench import kb_search

    kb_search.main(["--database-url", f"sqlite:///{tmp_path / 'kb.db'}", "--articles", "60",
                    "--runs", "2"])
    out = capsys.readouterr().out
    assert "generated 60 articles" in out
    assert "inflected «εκτυπωτές»" in out and "suggest (filing, 6 words)" in out
    assert "worst p95:" in out

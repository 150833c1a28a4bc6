"""Output files of a run: findings, summaries, rejects, run.json and the per-agent tables."""

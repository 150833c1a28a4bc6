"""Supervision over the store: flagged conversations, transcripts, reports, review, appeals, sampling."""

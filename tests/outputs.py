"""Output files of `qc inspect` that must be byte-identical between engines and job counts.

agents.xlsx is left out: the workbook records its own creation time.
"""

COMPARABLE_OUTPUTS = (
    "findings.jsonl",
    "conversations.jsonl",
    "rejects.jsonl",
    "deductions.jsonl",
    "agents.csv",
    "agents.json",
)

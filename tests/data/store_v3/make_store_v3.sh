#!/usr/bin/env bash
# How store_v3.sqlite.gz was made: a store written by qc at commit 82121d6 (schema migrations
# 1-3, before issue 16), kept to test that later migrations keep every row, review and appeal.
# It only reproduces with that commit's qc (the store it writes is what is under test):
#   git worktree add /tmp/qc-82121d6 82121d6 && cd /tmp/qc-82121d6 && make setup
#   bash /path/to/tests/data/store_v3/make_store_v3.sh .venv/bin/qc OUT_DIR
# Two runs of the same day from two files: the second replaced the first's results of
# 2026-11-24 (the bug issue 16 fixes) but not its spill-over rows of 2026-11-25 nor its
# messages; then review decisions, an overturned appeal and an open one.
set -euo pipefail
QC=${1:?path to qc of commit 82121d6}
OUT=${2:?output folder}
DB="$OUT/store_v3.sqlite"
rm -f "$DB" "$DB.gz"
export QC_DB="$DB"
"$QC" inspect demo/day/wangwang_history_2026-11-24.txt --out "$OUT/run1" --db "$DB" -q || true
"$QC" inspect demo/day/2026-11-24_conversations.jsonl --out "$OUT/run2" --db "$DB" -q || true
"$QC" review decide 590571fdda9a8c41 --reject --by 张主管 --note "buyer joked first"
"$QC" review decide 8a620f0fe08ff930 --confirm --by 质检小王
"$QC" appeal open 4b3c11834cac75c4 --agent 阿杰 --reason "the buyer asked twice, I answered"
"$QC" appeal answer 1 --by 质检小王 --note checked
"$QC" appeal rule 1 --overturn --by 张主管
"$QC" appeal open 145e62a66f730cb2 --agent 小满 --reason "not impatient"
sqlite3 "$DB" VACUUM
gzip -9 "$DB"

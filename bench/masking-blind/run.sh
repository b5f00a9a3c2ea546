#!/usr/bin/env bash
# Blind masking check through a running `gatehouse demo` (issue #4, "How it is checked"): a corpus
# generated from a seed (a different one each run unless SEED is set), inserted into the demo's
# database directly (TARGET_URL from demo.env) and read back through the gateway with psql as
# alice (the `pii` profile). Prints, per detector, how many sensitive values leaked, and how many
# look-alikes were masked, then each leak and false positive.
#
#   bin/gatehouse demo &                                  # in another shell
#   bench/masking-blind/run.sh [DATA_DIR]                 # default ./gatehouse-demo
#   SEED=16016 bench/masking-blind/run.sh                 # the sixteenth session's corpus
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-./gatehouse-demo}
# shellcheck disable=SC1091
source "$data/demo.env"
seed=${SEED:-$RANDOM$RANDOM}
work=$(mktemp -d -t gh-blind.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$here/gen.py" "$seed" > "$work/corpus.jsonl"
python3 - "$work" <<'PY'
import csv, json, sys
w = sys.argv[1]
rows = [json.loads(l) for l in open(f"{w}/corpus.jsonl")]
with open(f"{w}/corpus.csv", "w", newline="") as f:
    out = csv.writer(f)
    for i, r in enumerate(rows):
        out.writerow([i, r["text"]])
PY
psql "$TARGET_URL" -q -v ON_ERROR_STOP=1 \
  -c "DROP TABLE IF EXISTS blind_check" \
  -c "CREATE TABLE blind_check (id int PRIMARY KEY, body text)" \
  -c "\\copy blind_check FROM '$work/corpus.csv' CSV" 2>&1 | grep -v NOTICE || true
PGPASSWORD=$ALICE_TOKEN psql \
  "host=127.0.0.1 port=$GATEHOUSE_PG_PORT dbname=payments-db sslmode=require user=alice" \
  -At -F $'\x1f' -R $'\x1e' -v ON_ERROR_STOP=1 \
  -c "SELECT id, body FROM blind_check ORDER BY id" > "$work/out.txt"
echo "seed $seed"
(cd "$work" && python3 "$here/eval.py" out.txt)

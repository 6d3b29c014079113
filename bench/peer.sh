#!/usr/bin/env bash
# Run the peer (django-helpdesk) benchmark on PostgreSQL at N_BIG tickets and keep
# its RESULT lines in bench/results/peer-latest.txt (read by bench/run.py).
#   bash bench/peer.sh            # ~10-15 min, private PostgreSQL on 127.0.0.1:54329
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PEER_DIR=${PEER_DIR:-$HERE/../../shared/bench/peer-django-helpdesk}
[ -d "$PEER_DIR" ] || PEER_DIR=/work/shared/bench/peer-django-helpdesk
OUT=${PEER_OUT:-$HERE/results/peer-latest.txt}
mkdir -p "$(dirname "$OUT")"
BACKENDS=${BACKENDS:-postgres} N_BIG=${N_BIG:-100000} \
  bash "$PEER_DIR/run.sh" 2>&1 | tee /tmp/arogi-peer-run.log | grep --line-buffered '^RESULT\|^MACHINE\|^== ' || true
grep '^RESULT\|^MACHINE' /tmp/arogi-peer-run.log > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
echo "peer RESULT lines: $(grep -c '^RESULT' "$OUT") -> $OUT"

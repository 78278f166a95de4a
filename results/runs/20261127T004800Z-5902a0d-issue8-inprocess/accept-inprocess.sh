#!/bin/bash
cd /work/main
K=results/runs/20261127T004800Z-5902a0d-issue8-inprocess
keep() { local f; f=$(ls -d $1/*/ 2>/dev/null | head -1); [ -z "$f" ] && { echo "$2: NO RUN"; return; }; mv "$f" $K/$2
python3 - $K/$2/summary.json $2 <<'PY'
import json,sys
s=json.load(open(sys.argv[1])); l=s['latency_us']
print('%-28s %.3f Mpps  p50 %9.1f us  p99 %9.1f us  p99.9 %9.1f us  drops %s' % (sys.argv[2], s['received_pps']/1e6, l['p50'], l['p99'], l['p99.9'], s['drops']))
PY
}
for mode in iptables ipvs; do for n in 100 10000; do nodes=$([ $n -gt 1000 ] && echo 160 || echo 4)
  d=$(mktemp -d); scripts/dpbench loadgen --in-process --mode $mode --services $n --nodes $nodes --duration 14 --warmup 5 --max-conntrack 2000000 --out $d > $d.log 2>&1
  keep $d inprocess-$mode-$n
done; done
d=$(mktemp -d); scripts/dpbench loadgen --in-process --mode ipvs --services 100 --rate 50000 --duration 14 --warmup 5 --out $d > $d.log 2>&1; keep $d inprocess-ipvs-100-open-50k


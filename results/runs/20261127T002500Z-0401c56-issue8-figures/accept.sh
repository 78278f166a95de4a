#!/bin/bash
# issue 8's figures with the final code: in-process and wire, iptables and IPVS, N=100 and 10,000, the reflect limit,
# open loop below capacity. Each run's folder goes to $K/<name>.
cd /work/main
K=${K:?}; mkdir -p $K
port=18800
keep() { # $1 tmp dir, $2 name
  local f; f=$(ls -d $1/*/ 2>/dev/null | head -1)
  if [ -z "$f" ]; then echo "$2: NO RUN FOLDER"; return; fi
  mv "$f" $K/$2
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
for mode in iptables ipvs reflect; do for n in 100 10000; do nodes=$([ $n -gt 1000 ] && echo 160 || echo 4)
  [ $mode = reflect ] && [ $n = 10000 ] && continue
  if [ $mode = reflect ]; then a="--mode ipvs --reflect"; else a="--mode $mode"; fi
  name=wire-$mode-$n; [ $mode = reflect ] && name=wire-reflect
  scripts/dpbench run $a --mix realistic --services $n --nodes $nodes --port $port --duration 24 --interval 0 --json > /tmp/zc/node-$name.json 2>&1 & rp=$!
  sleep 4
  d=$(mktemp -d); scripts/dpbench loadgen $a --mix realistic --services $n --nodes $nodes --target 127.0.1.0:$port --duration 14 --warmup 5 --out $d > $d.log 2>&1
  wait $rp
  keep $d $name; grep '^{' /tmp/zc/node-$name.json | tail -1 > $K/$name/node.json; echo "   node: $(cat $K/$name/node.json | cut -c1-260)"
done; done
d=$(mktemp -d); scripts/dpbench loadgen --in-process --mode ipvs --services 100 --rate 50000 --duration 14 --warmup 5 --out $d > $d.log 2>&1; keep $d inprocess-ipvs-100-open-50k
scripts/dpbench run --mode ipvs --mix realistic --services 100 --nodes 4 --port $port --duration 24 --interval 0 --json > /tmp/zc/node-open.json 2>&1 & rp=$!
sleep 4; d=$(mktemp -d); scripts/dpbench loadgen --mode ipvs --mix realistic --services 100 --nodes 4 --target 127.0.1.0:$port --rate 20000 --duration 14 --warmup 5 --out $d > $d.log 2>&1; wait $rp
keep $d wire-ipvs-100-open-20k; grep '^{' /tmp/zc/node-open.json | tail -1 > $K/wire-ipvs-100-open-20k/node.json

#!/bin/bash
# node CPU per datagram in wire mode, before (f635301, /work/wt-before) vs after (this tree), alternating; as issue 8's run measured it
out=$1; rounds=${2:-2}; mkdir -p $out
port=18700
for r in $(seq 1 $rounds); do
  for side in before after; do
    if [ $side = before ]; then dir=/work/wt-before; else dir=/work/main; fi
    port=$((port+2)); d=$out/$side-$r; mkdir -p $d
    java @$dir/jvm.flags -cp $dir/loadgen/target/dpbench.jar io.dpbench.cli.Main run --mode ipvs --mix realistic --services 100 --nodes 4 --port $port --duration 24 --interval 0 --json > $d/node.json 2>$d/node.err &
    node=$!
    for i in $(seq 1 100); do grep -q listening $d/node.json 2>/dev/null && break; sleep 0.2; done
    pid=$(pgrep -P $node java || echo $node)
    pid=$node
    t0=$(awk '{print $14+$15}' /proc/$pid/stat)
    java @$dir/jvm.flags -cp $dir/loadgen/target/dpbench.jar io.dpbench.cli.Main loadgen --target 127.0.1.0:$port --mode ipvs --mix realistic --services 100 --nodes 4 --flows 1000 --new-flow-share 0.1 --duration 14 --out $d > $d/loadgen.log 2>&1
    t1=$(awk '{print $14+$15}' /proc/$pid/stat)
    wait $node
    summary=$(find $d -name "summary.json" -o -name "loadgen-summary.json" | head -1); echo "$t0 $t1" > $d/cpu-ticks.txt
    python3 - "$summary" "$t0" "$t1" "$side-$r" "$d/node.json" <<'PY'
import json,sys,os
s=json.load(open(sys.argv[1])); ticks=int(sys.argv[3])-int(sys.argv[2]); hz=os.sysconf('SC_CLK_TCK')
dg=s['sent']+s['received']
node=[l for l in open(sys.argv[5]) if l.startswith('{')]
heap=json.loads(node[-1]).get('heap-bytes-per-datagram') if node else None
print(f"{sys.argv[4]}: {s['received_pps']} pps, node CPU {ticks/hz*1e9/dg:.0f} ns/datagram, heap {heap} B/datagram, drops {s['counted_drops']}, unaccounted {s['unaccounted']}")
PY
  done
done

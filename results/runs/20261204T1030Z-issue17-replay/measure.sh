#!/bin/bash
# usage: m2.sh TAG ROUNDS jar-names...  -> per-connection us, medians
cd /tmp/rp; tag=$1; rounds=$2; shift 2
: > /tmp/rp/t-$tag.txt
for r in $(seq 1 $rounds); do for v in "$@"; do for c in new few; do
  s=$(date +%s.%N)
  java @/work/main/jvm.flags -jar /tmp/dpbench-$v.jar replay --mode ipvs --services 1000 --max-conntrack 2000000 --in $c.pcap --out /tmp/rp/out-$v.pcap > /tmp/rp/$tag-$v-$c-$r.txt 2>&1
  e=$(date +%s.%N)
  echo "$v $c $r $(echo "$e - $s" | bc)" >> /tmp/rp/t-$tag.txt
done; done; done
python3 - /tmp/rp/t-$tag.txt <<'PY'
import sys,collections,statistics
t=collections.defaultdict(dict)
for l in open(sys.argv[1]):
    v,c,r,x=l.split(); t[(v,r)][c]=float(x)
per=collections.defaultdict(list)
for (v,r),d in sorted(t.items()):
    if 'new' in d and 'few' in d: per[v].append((d['new']-d['few'])/189791*1e6)
for v,xs in per.items(): print(v, 'us/conn', ' '.join(f'{x:.2f}' for x in xs), 'median %.2f'%statistics.median(xs))
PY

import json,glob,statistics,sys
rows={}
for d in sys.argv[1:]:
  for f in sorted(glob.glob(d+'/*.json')):
    side=f.split('/')[-1].split('-')[0]
    try: data=json.load(open(f))
    except Exception: continue
    for b in data:
        key=(b['benchmark'].split('.')[-2], ','.join(f"{k}={v}" for k,v in (b.get('params') or {}).items()))
        pm=b['primaryMetric']
        gc=b['secondaryMetrics'].get('gc.alloc.rate.norm',{}).get('score')
        rows.setdefault(key,{}).setdefault(side,[]).append((pm['score'],pm['scoreError'],gc))
for k,v in rows.items():
    out=[]
    for side in ['before','after']:
        s=[x[0] for x in v.get(side,[])]
        if not s: continue
        g=max(x[2] for x in v[side])
        out.append(f"{side}: median {statistics.median(s):.1f} ns (forks {', '.join(f'{x[0]:.0f}±{x[1]:.0f}' for x in v[side])}), gc <= {g:.2f} B/op")
    print(k[0], k[1]); [print('   '+o) for o in out]

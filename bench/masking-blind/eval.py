#!/usr/bin/env python3
"""Scores a blind check (run.sh): leaks per detector among the sensitive rows, masked look-alikes."""
import json, re, sys, collections
rows=[json.loads(l) for l in open('corpus.jsonl')]
raw=open(sys.argv[1]).read().rstrip('\x1e\n')
out={}
for rec in raw.split('\x1e'):
    rec=rec.lstrip('\n')
    if not rec: continue
    i,b=rec.split('\x1f',1)
    out[int(i)]=b
digits=lambda s: re.sub(r'\D','',s)
stat=collections.defaultdict(lambda:[0,0])
leaks=[];fps=[]
for i,r in enumerate(rows):
    o=out.get(i)
    if o is None: print("missing",i); continue
    if r['label']=='pos':
        v=r['value']; d=r['det']; leak = v in o
        if d in ('card','phone','ssn','iban') and len(digits(v))>=7 and digits(v) in digits(o): leak=True
        if d=='secret':
            toks=sorted(re.split(r'[^A-Za-z0-9_+/=-]+',v),key=len)
            if toks[-1] in o: leak=True
        if d=='email':
            lp=v.split('@')[0]
            if len(lp)>1 and lp+'@' in o: leak=True
        stat[d][0]+=1; stat[d][1]+=leak
        if leak: leaks.append((d,r['text'],o))
    else:
        fp = o!=r['text']
        stat['neg'][0]+=1; stat['neg'][1]+=fp
        if fp: fps.append((r['text'],o))
for k,(n,b) in stat.items(): print(f"{k:8s} {n:5d} {'leaks' if k!='neg' else 'FP'} {b}")
tp=sum(n for k,(n,b) in stat.items() if k!='neg'); tl=sum(b for k,(n,b) in stat.items() if k!='neg')
print(f"recall {100*(tp-tl)/tp:.2f}% ({tl} of {tp} leaked); FP {100*stat['neg'][1]/stat['neg'][0]:.2f}% ({stat['neg'][1]} of {stat['neg'][0]})")
for l in leaks: print("LEAK",l)
for f in fps: print("FP",f)

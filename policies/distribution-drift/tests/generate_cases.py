"""Prints the generated cases of tests/distribution-drift.yaml (the ones between its header
and its hand-written error cases), with expected values computed apart from
the policy's Rust code: python3 tests/generate_cases.py"""
import datetime as dt, math
UTC=dt.timezone.utc
Z={0.1:-1.2816,0.25:-0.6745,0.5:0.0,0.75:0.6745,0.9:1.2816}
JIT=[0.01,-0.02,0.015,-0.005,0.02,-0.01,0.0,0.012,-0.018,0.006]
def qs(scale=1.0, sigma=0.6, shift=0.0):
    return {q: round(scale*math.exp(math.log(50)+sigma*z)+shift, 2) for q,z in Z.items()}
def ts(t): return t.strftime('%Y-%m-%dT%H:%M:%SZ')
def yq(d): return '{'+', '.join(f'"{q}": {v}' for q,v in sorted(d.items()))+'}'
# policy reimplementation
def average(samples):
    first=samples[0]; return sorted((q, sum(s[q] for s in samples)/len(samples)) for q in first if all(q in s for s in samples))
def cdf(points, v):
    ql,low=points[0]; qh,high=points[-1]
    if v<low:
        nxt=[p for p in points if p[1]>low]
        if not nxt: return 0.0
        q,w=nxt[0]; return max(0.0, ql-(q-ql)/(w-low)*(low-v))
    if v>high:
        prv=[p for p in points if p[1]<high]
        if not prv: return 1.0
        q,w=prv[-1]; return min(1.0, qh+(qh-q)/(high-w)*(v-high))
    i=max(k for k,p in enumerate(points) if p[1]<=v); q0,w0=points[i]
    if i+1<len(points):
        q1,w1=points[i+1]
        if v>w0 and w1>w0: return q0+(q1-q0)*(v-w0)/(w1-w0)
    return q0
def psi(base, cur):
    cuts=[]
    for q,v in base:
        if cuts and cuts[-1][1]==v: cuts[-1]=(q,v)
        else: cuts.append((q,v))
    tot=0; eb=ab=0
    for q,v in cuts+[(1.0,math.inf)]:
        a=cdf(cur,v); ea=max(a-ab,1e-4); ee=max(q-eb,1e-4); tot+=(ea-ee)*math.log(ea/ee); eb,ab=q,a
    return tot
def shift(base, cur, only=None):
    b=dict(base); best=0
    for q in (only or [q for q,_ in base if q in cur]):
        c=cur[q]; r=0.0 if c==b[q] else abs(c-b[q])/abs(b[q]); best=max(best,r)
    return best
DS='{namespace: "s3://lake", name: payments}'
now=dt.datetime(2026,11,26,6,0,tzinfo=UTC)
days=[(now-dt.timedelta(days=i+1), qs(1+JIT[i])) for i in range(7)]
def case(name, cfg, cur, hist, only=None, within=None, last=10, anchor=None, alias=None):
    cfgtxt='{'+', '.join(f'{k}: {v}' for k,v in cfg.items())+'}'
    L=[f"- name: {name}", f"  config: {cfgtxt}", "  observation:", f"    dataset: {DS}",
       f"    observed_at: {ts(now)}", "    columns:", f"      amount: {{quantiles: {yq(cur)}}}"]
    if alias: L.append(f"  history: *{alias}")
    else: L.append("  history:" + (f" &{anchor}" if anchor else ""))
    if not alias: L+=[f"    - {{dataset: {DS}, observed_at: {ts(t)}, columns: {{amount: {{quantiles: {yq(q)}}}}}}}" for t,q in hist]
    sel=[q for t,q in hist[:last] if within is None or t>=now-within]
    base=average(sel)
    if cfg['method']=='psi': stat=psi(base, sorted(cur.items()))
    else: stat=shift(base, cur, only)
    good=stat<=cfg['threshold']
    L+=["  measurements:", f"    - {{sli: distribution_drift, good: {int(good)}, total: 1, value: {stat:.9f}, tolerance: 0.000001}}"]
    print('\n'.join(L)); print()
stable=qs(1.005)
up=qs(1.25)
wide=qs(1.0, sigma=0.9)
case("a day like the week before shifts no quantile by more than 10 percent", {'column':'amount','method':'quantile_shift','threshold':0.1}, stable, days, anchor='week')
case("amounts up by a quarter shift every quantile past 10 percent", {'column':'amount','method':'quantile_shift','threshold':0.1}, up, days, alias='week')
case("a wider spread around the same median passes a median-only shift", {'column':'amount','method':'quantile_shift','threshold':0.1,'quantiles':'[0.5]'}, wide, days, only=[0.5], alias='week')
case("a day like the week before has a PSI near zero", {'column':'amount','method':'psi','threshold':0.2}, stable, days, alias='week')
case("the wider spread has a PSI above 0.2", {'column':'amount','method':'psi','threshold':0.2}, wide, days, alias='week')
case("amounts up by a quarter have a PSI of 0.18, above a threshold of 0.1", {'column':'amount','method':'psi','threshold':0.1}, up, days, alias='week')
# A level change three days ago: a baseline of the last 3 days accepts the new level.
moved=[(t, qs(1.25+JIT[i]) if i<3 else q) for i,(t,q) in enumerate(days)]
case("after a level change a baseline within 3 days accepts the new level", {'column':'amount','method':'quantile_shift','threshold':0.1,'baseline_within':'3d'}, up, moved, within=dt.timedelta(days=3), anchor='moved')
case("after a level change the week's baseline still sees a shift", {'column':'amount','method':'quantile_shift','threshold':0.1}, up, moved, alias='moved')

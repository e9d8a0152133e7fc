"""Prints the generated cases of tests/volume-anomaly.yaml (the ones between its header
and its hand-written error cases), with expected values computed apart from
the policy's Rust code: python3 tests/generate_cases.py"""
import datetime as dt
from zoneinfo import ZoneInfo
UTC=dt.timezone.utc
def med(v):
    v=sorted(v); n=len(v); return v[n//2] if n%2 else (v[n//2-1]+v[n//2])/2
def robust(hist, x):
    m=med(hist); dev=[abs(h-m) for h in hist]; mad=med(dev)
    scale = mad*1.4826 if mad>0 else sum(dev)/len(dev)*1.2533
    return (0.0 if x==m else (x-m)/scale), m, mad
def ts(t): return t.strftime('%Y-%m-%dT%H:%M:%SZ')
NOISE=[-120,80,40,-60,150,-30,10,90,-110,20,60,-80,0,130,-40,70,-90,30,-10,110,-70,50,-20,100,-50,140,-100,-130,25,-25,65,-65,35,-35,95]
DS='{namespace: "s3://lake", name: events}'
def case(name, cfg, now_t, rows, hist):
    maxdev=cfg['max_deviation']; season=cfg.get('seasonality','none'); tz=ZoneInfo(cfg.get('timezone','UTC'))
    direction=cfg.get('direction','both'); minh=cfg.get('min_history',5); lb=cfg.get('lookback',100)
    past=hist[:lb]
    if season=='weekly':
        wd=now_t.astimezone(tz).weekday()
        past=[(t,r) for t,r in past if t.astimezone(tz).weekday()==wd]
    vals=[r for _,r in past]
    cfgtxt='{'+', '.join(f'{k}: {v}' for k,v in cfg.items())+'}'
    L=[f"- name: {name}", f"  config: {cfgtxt}", "  observation:", f"    dataset: {DS}",
       f"    observed_at: {ts(now_t)}", f"    row_count: {rows}", "  history:"]
    L+= [f"    - {{dataset: {DS}, observed_at: {ts(t)}, row_count: {r}}}" for t,r in hist]
    if len(vals)<minh:
        L.append("  error: missing_metadata")
    else:
        z,m,mad=robust(vals, rows)
        good = abs(z)<=maxdev if direction=='both' else z>=-maxdev
        L.append(f"  # median {m}, MAD {mad}, n={len(vals)}")
        L.append("  measurements:")
        L.append(f"    - {{sli: volume_anomaly, good: {int(good)}, total: 1, value: {z:.6f}, tolerance: 0.000001}}")
    print('\n'.join(L)); print()

# A daily series at 06:00 UTC: 14 days of 10000 rows with noise.
now=dt.datetime(2026,11,26,6,0,tzinfo=UTC)  # Thursday
daily=[(now-dt.timedelta(days=i+1), 10000+NOISE[i]) for i in range(14)]
case("a count near the median of two noisy weeks is good", {'max_deviation':3.5}, now, 10050, daily)
case("a spike of 30 percent over two noisy weeks is bad", {'max_deviation':3.5}, now, 13000, daily)
case("with direction decrease the same spike is good", {'max_deviation':3.5,'direction':'decrease'}, now, 13000, daily)
case("with direction decrease a drop of 30 percent is bad", {'max_deviation':3.5,'direction':'decrease'}, now, 7000, daily)
case("lookback 7 judges by the last week only", {'max_deviation':3.5,'lookback':7}, now, 10100, daily)

# Weekly seasonality: five weeks of weekdays near 10000 and weekends near 2000.
sat=dt.datetime(2026,11,28,6,0,tzinfo=UTC)  # Saturday
weekly=[]
for i in range(35):
    t=sat-dt.timedelta(days=i+1)
    base=2000 if t.weekday()>=5 else 10000
    weekly.append((t, base+NOISE[i]//(5 if base==2000 else 1)))
case("a quiet Saturday is good against the Saturdays of five weeks", {'max_deviation':3.5,'seasonality':'weekly'}, sat, 2010, weekly)
case("the same quiet Saturday is bad against every day", {'max_deviation':3.5}, sat, 2010, weekly)
case("a Saturday as busy as a weekday is bad against the Saturdays", {'max_deviation':3.5,'seasonality':'weekly'}, sat, 10000, weekly)

# A time zone: the Monday batch lands at 23:30 UTC on Sunday, Monday 00:30 in Berlin.
cur=dt.datetime(2026,11,29,23,30,tzinfo=UTC)
tzh=[]
for w in range(4):
    sun=cur-dt.timedelta(days=7*(w+1))
    tzh.append((sun, 5000+NOISE[w]))             # Monday 00:30 Berlin
for w in range(4):
    sun=cur-dt.timedelta(days=7*(w+1))
    for h,k in ((15,0),(12,1),(9,2)):
        tzh.append((sun.replace(hour=h,minute=0), 500+NOISE[10+3*w+k]//10))
tzh.sort(key=lambda x:x[0], reverse=True)
case("the Monday batch compares with Mondays in Europe/Berlin", {'max_deviation':3.5,'seasonality':'weekly','timezone':'Europe/Berlin','min_history':4}, cur, 5100, tzh)
case("the Monday batch is an outlier among Sundays in UTC", {'max_deviation':3.5,'seasonality':'weekly','min_history':4}, cur, 5100, tzh)

case("three days of history are below min_history", {'max_deviation':3.5}, now, 10000, daily[:3])
case("two Saturdays are below a weekly min_history of 3", {'max_deviation':3.5,'seasonality':'weekly','min_history':3}, sat, 2000, weekly[:14])

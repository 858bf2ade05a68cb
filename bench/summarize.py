#!/usr/bin/python3
"""Summarize one bench/run.sh result directory: medians over the runs of
each measurement, the ratios and the targets. Usage: summarize.py OUTDIR."""

import json
import re
import statistics
import sys
from pathlib import Path

SIZES = {"4KiB": 4096, "64MiB": 64 << 20}
MiB = 1 << 20


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def load(outdir):
    rows = []
    with open(outdir / "results.jsonl") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def pick(rows, **kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]


def verdict(ok):
    return "PASS" if ok else "FAIL"


def paired(rows, bench, size, num, den, key, sizefield="size"):
    """Per-run ratios key(num row) / key(den row) of the same run number."""
    a = {r["run"]: key(r) for r in pick(rows, bench=bench, target=num, **{sizefield: size})}
    b = {r["run"]: key(r) for r in pick(rows, bench=bench, target=den, **{sizefield: size})}
    return [a[k] / b[k] for k in a if b.get(k)]


def rps(r):
    return r["requests"] / (r["duration_us"] / 1e6)


def ratio_cell(xs):
    if not xs:
        return "-", "-"
    return f"{med(xs):.2f}", f"{min(xs):.2f}-{max(xs):.2f}"


def wrk_figs(rs):
    """Medians over wrk runs: req/s, p50 and p99 latency (ms), CPU us/request,
    and the errors summed."""
    return (med([rps(r) for r in rs]),
            med([r["latency_us"]["p50"] / 1e3 for r in rs]),
            med([r["latency_us"]["p99"] / 1e3 for r in rs]),
            med([r["server_cpu_s"] * 1e6 / r["requests"] for r in rs if r.get("requests")]),
            sum(sum(r["errors"].values()) for r in rs))


def hotget(rows, out):
    out.append("1. Hot GET, wrk keep-alive; objstore = native API, s3api = the node's S3 API (presigned GET")
    out.append("   URL); nginx serves objstore's body file, minhttp (Go net/http, body in memory) the same")
    out.append("   bytes; median of runs")
    out.append(f"{'object':<7} {'server':<9} {'req/s':>8} {'MiB/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} "
               f"{'errors':>6}  {'/nginx':>6} {'(min-max)':>11}  target  result")
    for size, target in (("4KiB", 0.8), ("64MiB", 0.9)):
        for srv in ("objstore", "s3api", "nginx", "minhttp"):
            rs = pick(rows, bench="hotget", target=srv, size=size)
            if not rs:
                continue
            r_s, p50, p99, cpu, errs = wrk_figs(rs)
            # Ratios pair each run with the nginx run right after (or before)
            # it, which holds up better than a ratio of medians when the
            # machine drifts.
            rat, spread = ratio_cell(paired(rows, "hotget", size, srv, "nginx", rps)) if srv != "nginx" else ("", "")
            tail = ""
            if srv == "objstore":
                ok = rat != "-" and float(rat) >= target and errs == 0
                tail = f"{'>= ' + str(target):>6}  {verdict(ok)}"
            out.append(f"{size:<7} {srv:<9} {r_s:>8.0f} {r_s * SIZES[size] / MiB:>7.0f} {p50:>7.2f} {p99:>7.2f} "
                       f"{cpu:>10.0f} {errs:>6}  {rat:>6} {spread:>11}  {tail}  (n={len(rs)})".rstrip())
        for num, den in (("s3api", "objstore"), ("objstore", "minhttp"), ("s3api", "minhttp")):
            xs = paired(rows, "hotget", size, num, den, rps)
            if xs:
                rat, spread = ratio_cell(xs)
                out.append(f"{'':<7} {num}/{den}, same runs: {rat} ({spread})")
    out.append("   MiB/s counts bodies only (requests x object size); /nginx = median over runs of")
    out.append("   req/s / nginx req/s of the same run; CPU us/req: the server's user+system CPU time")
    out.append("   over the run / requests; latency from wrk (coordinated omission not corrected)")


def bps(r):
    return r["bytes"] / (r["duration_us"] / 1e6)


def tls(rows, out):
    out.append("1b. Hot GET over HTTPS (one self-signed P-256 certificate), wrk keep-alive; median of runs")
    out.append(f"{'object':<7} {'server':<12} {'req/s':>8} {'MiB/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} "
               f"{'errors':>6}  {'/nginx':>6} {'(min-max)':>11}")
    for size in ("4KiB", "64MiB"):
        for srv in ("objstore-tls", "s3api-tls", "nginx-tls"):
            rs = pick(rows, bench="tls", target=srv, size=size)
            if not rs:
                continue
            r_s, p50, p99, cpu, errs = wrk_figs(rs)
            rat, spread = ratio_cell(paired(rows, "tls", size, srv, "nginx-tls", bps)) if srv != "nginx-tls" else ("", "")
            out.append(f"{size:<7} {srv:<12} {r_s:>8.0f} {med([bps(r) for r in rs]) / MiB:>7.0f} {p50:>7.2f} {p99:>7.2f} "
                       f"{cpu:>10.0f} {errs:>6}  {rat:>6} {spread:>11}  (n={len(rs)})".rstrip())
    out.append("   MiB/s counts every byte wrk received (headers and bodies, finished or not: a 64 MiB body over")
    out.append("   TLS may not finish within a short run); /nginx = median over runs of MiB/s / nginx-tls MiB/s")
    out.append("   of the same run")


def peer(rows, out):
    out.append("4. Cluster: local hit on A vs peer read through B (B reads the body from A; a 4 KiB one once,")
    out.append("   then from its memory while A is up), wrk as in 1;")
    out.append("   median of runs")
    out.append(f"{'object':<7} {'read':<6} {'req/s':>8} {'MiB/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req A+B':>14} "
               f"{'errors':>6}  {'peer/local req/s':>16} {'(min-max)':>11}  {'p50 x':>6}  {'p99 x':>6}")
    for size in ("4KiB", "64MiB"):
        for kind in ("local", "peer"):
            rs = pick(rows, bench="peer", target=kind, size=size)
            if not rs:
                continue
            r_s, p50, p99, cpu, errs = wrk_figs(rs)
            cells = ""
            if kind == "peer":
                rat, spread = ratio_cell(paired(rows, "peer", size, "peer", "local", rps))
                l50, _ = ratio_cell(paired(rows, "peer", size, "peer", "local", lambda r: r["latency_us"]["p50"]))
                l99, _ = ratio_cell(paired(rows, "peer", size, "peer", "local", lambda r: r["latency_us"]["p99"]))
                cells = f"{rat:>16} {spread:>11}  {l50:>6}  {l99:>6}"
            out.append(f"{size:<7} {kind:<6} {r_s:>8.0f} {r_s * SIZES[size] / MiB:>7.0f} {p50:>8.2f} {p99:>8.2f} "
                       f"{cpu:>14.0f} {errs:>6}  {cells}  (n={len(rs)})".replace("   (n=", "  (n="))
    out.append("   ratios: median over runs of peer / local of the same run (req/s; p50 and p99 latency);")
    out.append("   CPU counts both nodes (B is idle during local hits)")


def synccost(outdir, out):
    out.append("5. Anti-entropy sync cost (bench/cmd/synccost): one Sync pass vs shipping the full journal")
    f = outdir / "raw" / "synccost.txt"
    if not f.exists():
        out.append("   (not run)")
        return
    out.extend("   " + line if line else "" for line in f.read_text().rstrip().splitlines())


def targets(rows, bench, known):
    """The known targets in their order, then any other target of bench
    (a new write mode added to bench/run.sh's put_targets) by name."""
    seen = {r["target"] for r in pick(rows, bench=bench)}
    return [t for t in known if t in seen] + sorted(seen - set(known))


def put(rows, out):
    out.append("2. PUT throughput, putload -c32; objstore-Ln = native API at level n, s3api-Ln = the node's")
    out.append("   S3 API (PutObject, SigV4) at level n, -WB = write-back (level 1, uploaded later),")
    out.append("   s3-direct = PutObject to the S3 server; median of runs")
    out.append(f"{'size':<5} {'target':<12} {'objects/s':>10} {'MiB/s':>8} {'p50 ms':>8} {'p99 ms':>8}  errors  "
               f"{'vs S3':>6} {'(min-max)':>11}  {'vs native':>9} {'(min-max)':>11}  "
               f"{'CPU us/obj node':>15} {'S3':>5} {'client':>6}")

    def ops(r):
        return r["objects_per_s"]

    def cpu(rs, field):
        xs = [r[field] * 1e6 / r["objects"] for r in rs if field in r and r.get("objects")]
        return f"{med(xs):.0f}" if xs else "-"

    for size in ("4KiB", "1MiB"):
        for target in targets(rows, "put", ("s3-direct", "objstore-L2", "objstore-L1", "s3api-L1", "objstore-L0", "s3api-L0",
                                              "objstore-WB", "s3api-WB")):
            rs = pick(rows, bench="put", target=target, sizename=size)
            if not rs:
                continue
            cells = ""
            if target != "s3-direct":
                rat, spread = ratio_cell(paired(rows, "put", size, target, "s3-direct", ops, "sizename"))
                cells = f"{rat:>6} {spread:>11}"
            if target.startswith("s3api-"):
                native = "objstore-" + target.split("-", 1)[1]
                rat, spread = ratio_cell(paired(rows, "put", size, target, native, ops, "sizename"))
                cells += f"  {rat:>9} {spread:>11}"
            out.append(f"{size:<5} {target:<12} {med([ops(r) for r in rs]):>10.0f} {med([r['mib_per_s'] for r in rs]):>8.1f} "
                       f"{med([r['p50_ms'] for r in rs]):>8.1f} {med([r['p99_ms'] for r in rs]):>8.1f}  "
                       f"{sum(r['errors'] for r in rs):>6}  {cells:<38}  "
                       f"{cpu(rs, 'node_cpu_s'):>15} {cpu(rs, 's3_cpu_s'):>5} {cpu(rs, 'client_cpu_s'):>6}  (n={len(rs)})")
    out.append("   vs S3 / vs native: median over runs of objects/s / s3-direct objects/s (or / the native API's")
    out.append("   at the same level) of the same run; CPU us/obj: user+system CPU time over the run / objects")
    out.append("   PUT, of the node, the S3 server (versitygw) and putload itself (medians of runs)")
    for size in ("4KiB", "1MiB"):
        rat = paired(rows, "put", size, "objstore-L0", "s3-direct", ops, "sizename")
        if rat:
            out.append(f"   target {size} level 0 >= 1.5 x s3-direct objects/s: {med(rat):.2f}x -> {verdict(med(rat) >= 1.5)}")
        rat = paired(rows, "put", size, "objstore-WB", "objstore-L0", ops, "sizename")
        if rat:
            out.append(f"   target {size} write-back >= 0.9 x level 0 objects/s: {med(rat):.2f}x -> {verdict(med(rat) >= 0.9)}")
    putlat(rows, out)


def putlat(rows, out):
    if not pick(rows, bench="putlat"):
        return
    out.append("")
    out.append("2b. PUT latency, putload -c1 (one PUT at a time); ratios pair each run with s3-direct's run")
    out.append(f"{'size':<5} {'target':<12} {'objects/s':>10} {'p50 ms':>8} {'p99 ms':>8}  errors  "
               f"{'p50/S3':>6} {'(min-max)':>11}  {'p99/S3':>6} {'(min-max)':>11}")
    verdicts = []
    for size in ("4KiB", "1MiB"):
        for target in targets(rows, "putlat", ("s3-direct", "objstore-L0", "objstore-L1", "objstore-L2")):
            rs = pick(rows, bench="putlat", target=target, sizename=size)
            if not rs:
                continue
            cells = ""
            if target != "s3-direct":
                p50 = paired(rows, "putlat", size, target, "s3-direct", lambda r: r["p50_ms"], "sizename")
                p99 = paired(rows, "putlat", size, target, "s3-direct", lambda r: r["p99_ms"], "sizename")
                cells = "{:>6} {:>11}  {:>6} {:>11}".format(*ratio_cell(p50), *ratio_cell(p99))
                if target == "objstore-L1" and p50 and p99:
                    ok = med(p50) <= 1.1 and med(p99) <= 1.1
                    verdicts.append(f"   target {size} level 1 latency <= 1.1 x s3-direct, p50 and p99: "
                                    f"{med(p50):.2f}x / {med(p99):.2f}x -> {verdict(ok)}")
            out.append(f"{size:<5} {target:<12} {med([r['objects_per_s'] for r in rs]):>10.0f} "
                       f"{med([r['p50_ms'] for r in rs]):>8.2f} {med([r['p99_ms'] for r in rs]):>8.2f}  "
                       f"{sum(r['errors'] for r in rs):>6}  {cells}  (n={len(rs)})")
    out.extend(verdicts)


def duration_s(d):
    """Seconds in a Go duration of one unit, as BENCH_FAR_DELAYS gives them
    ("15ms", "500us", "1.5s"); unparsed ones sort last."""
    m = re.fullmatch(r"([0-9.]+)(ns|us|µs|ms|s)", d)
    if not m:
        return float("inf")
    return float(m.group(1)) * {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]


def putfar(rows, out):
    """Section 2c: level-1 latency with the S3 server behind delayproxy, one
    table row per one-way delay and size; targets are named target@delay."""
    rs = pick(rows, bench="putfar")
    delays = sorted({r["target"].split("@")[1] for r in rs}, key=duration_s)
    out.append("2c. Level-1 PUT latency with the S3 server DELAY away each way (delayproxy), -c1; ratios pair")
    out.append("    each run of objstore-L1 with the run of PUTs straight to the relay before it")
    out.append(f"{'delay':<6} {'size':<5} {'direct p50':>10} {'p99':>6} {'L1 p50':>7} {'p99':>6}  errors  "
               f"{'p50/S3':>6} {'(min-max)':>11}  {'p99/S3':>6} {'(min-max)':>11}")
    for delay in delays:
        for size in ("4KiB", "1MiB"):
            d = pick(rows, bench="putfar", target="s3-direct@" + delay, sizename=size)
            l1 = pick(rows, bench="putfar", target="objstore-L1@" + delay, sizename=size)
            if not d or not l1:
                continue
            p50 = paired(rows, "putfar", size, "objstore-L1@" + delay, "s3-direct@" + delay, lambda r: r["p50_ms"], "sizename")
            p99 = paired(rows, "putfar", size, "objstore-L1@" + delay, "s3-direct@" + delay, lambda r: r["p99_ms"], "sizename")
            out.append(f"{delay:<6} {size:<5} {med([r['p50_ms'] for r in d]):>10.2f} {med([r['p99_ms'] for r in d]):>6.2f} "
                       f"{med([r['p50_ms'] for r in l1]):>7.2f} {med([r['p99_ms'] for r in l1]):>6.2f}  "
                       f"{sum(r['errors'] for r in d + l1):>6}  "
                       "{:>6} {:>11}  {:>6} {:>11}".format(*ratio_cell(p50), *ratio_cell(p99)))


def stampede(rows, out):
    out.append("3. Cold-miss stampede, 16 MiB object; median of runs (ms)")
    base = pick(rows, bench="stampede", target="s3-single")
    basevia = pick(rows, bench="stampede", target="s3-single-via-proxy")

    def single(rs):
        rounds = [x for r in rs for x in r["rounds"]]
        return med([x["ttfb_p50_ms"] for x in rounds]), med([x["total_p50_ms"] for x in rounds]), len(rounds)

    bt, btot, bn = single(base)
    vt, vtot, vn = single(basevia)
    out.append(f"   single GET from the S3 server (median of {bn}): TTFB {bt:.1f}, total {btot:.1f}; "
               f"through the counting proxy (median of {vn}): TTFB {vt:.1f}, total {vtot:.1f}")
    out.append(f"{'setup':<15} {'clients':>7} {'origin GETs':>12} {'TTFB p50':>9} {'TTFB p99':>9} "
               f"{'total p50':>10} {'total p99':>10}  errors  p99/single")
    verdicts = []
    for target in ("objstore-single", "nginx-single", "objstore", "objstore-warm", "nginx-cache", "nginx-warm",
                   "s3-nocache"):
        rs = pick(rows, bench="stampede", target=target)
        if not rs:
            continue
        rounds = [r["rounds"][0] for r in rs]
        gets = sorted({r["origin_gets"] for r in rs})
        errs = sum(x["errors"] + (0 if x["same_body"] else 1) for x in rounds)
        p99 = med([x["total_p99_ms"] for x in rounds])
        out.append(f"{target:<15} {rs[0]['n']:>7} {'/'.join(map(str, gets)):>12} "
                   f"{med([x['ttfb_p50_ms'] for x in rounds]):>9.1f} {med([x['ttfb_p99_ms'] for x in rounds]):>9.1f} "
                   f"{med([x['total_p50_ms'] for x in rounds]):>10.1f} {p99:>10.1f}  {errs:>6}  "
                   f"{p99 / btot:>9.1f}x  (n={len(rs)})")
        if target == "objstore":
            verdicts.append(f"   target objstore p99 <= 1.5 x single direct GET ({1.5 * btot:.1f} ms): "
                            f"{p99:.1f} ms = {p99 / btot:.1f}x -> {verdict(p99 <= 1.5 * btot)}")
            verdicts.append(f"   target exactly 1 origin GET per stampede: {gets} -> "
                            f"{verdict(gets == [1] and errs == 0)}")
    cold = {r["run"]: r["rounds"][0]["total_p99_ms"] for r in pick(rows, bench="stampede", target="objstore")}
    warm = {r["run"]: r["rounds"][0]["total_p99_ms"] for r in pick(rows, bench="stampede", target="objstore-warm")}
    ratios = [cold[k] / warm[k] for k in cold if k in warm and warm[k] > 0]
    if ratios:
        verdicts.append(f"   check objstore cold p99 <= 1.5 x warm p99 (the same {len(ratios)} stampedes' objects, "
                        f"already on the node): {med(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) -> "
                        f"{verdict(med(ratios) <= 1.5)}")
    out.extend(verdicts)
    out.append("   origin GETs: GETs of the object counted by the proxy in each run (distinct values listed);")
    out.append("   -warm: the same 100 GETs again once the object is cached (the floor of this machine)")


def main():
    outdir = Path(sys.argv[1])
    rows = load(outdir)
    out = []
    meta = outdir / "meta.txt"
    if meta.exists():
        out.extend("   " + line for line in meta.read_text().splitlines())
    out.append("")
    hotget(rows, out)
    out.append("")
    if pick(rows, bench="tls"):
        tls(rows, out)
        out.append("")
    if pick(rows, bench="put") or pick(rows, bench="putlat"):
        put(rows, out)
        out.append("")
    if pick(rows, bench="putfar"):
        putfar(rows, out)
        out.append("")
    if pick(rows, bench="stampede"):
        stampede(rows, out)
    if pick(rows, bench="peer"):
        out.append("")
        peer(rows, out)
    out.append("")
    synccost(outdir, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()

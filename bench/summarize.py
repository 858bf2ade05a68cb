#!/usr/bin/python3
"""Summarize one bench/run.sh result directory: medians over the runs of
each measurement, the ratios and the targets. Usage: summarize.py OUTDIR."""

import json
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


def hotget(rows, out):
    out.append("1. Hot GET, wrk keep-alive, same body file; median of runs")
    out.append(f"{'object':<7} {'objstore req/s':>14} {'MiB/s':>8} {'nginx req/s':>12} {'MiB/s':>8} "
               f"{'ratio':>6} {'(min-max)':>11} {'target':>7}  result  {'CPU us/req os/nginx':>19}  errors")
    for size, target in (("4KiB", 0.8), ("64MiB", 0.9)):
        figs, byrun = {}, {}
        for srv in ("objstore", "nginx"):
            rs = pick(rows, bench="hotget", target=srv, size=size)
            rps = [r["requests"] / (r["duration_us"] / 1e6) for r in rs]
            byrun[srv] = {r["run"]: x for r, x in zip(rs, rps)}
            cpu = [r["server_cpu_s"] * 1e6 / r["requests"] for r in rs if r.get("requests")]
            errs = sum(sum(r["errors"].values()) for r in rs)
            figs[srv] = (med(rps), med(cpu), errs, len(rs))
        (orps, ocpu, oerr, n), (nrps, ncpu, nerr, _) = figs["objstore"], figs["nginx"]
        # Ratios pair each objstore run with the nginx run right after it,
        # which holds up better than a ratio of medians when the machine drifts.
        pairs = [byrun["objstore"][k] / byrun["nginx"][k] for k in byrun["objstore"] if byrun["nginx"].get(k)]
        ratio = med(pairs)
        spread = f"{min(pairs):.2f}-{max(pairs):.2f}" if pairs else "-"
        ok = ratio >= target and oerr == 0
        cpu = f"{ocpu:.0f}/{ncpu:.0f}"
        out.append(f"{size:<7} {orps:>14.0f} {orps * SIZES[size] / MiB:>8.0f} {nrps:>12.0f} "
                   f"{nrps * SIZES[size] / MiB:>8.0f} {ratio:>6.2f} {spread:>11} {'>= ' + str(target):>7}  "
                   f"{verdict(ok):<6}  {cpu:>19}  {oerr}/{nerr}  (n={n})")
    out.append("   MiB/s counts bodies only (requests x object size); ratio = median over runs of")
    out.append("   objstore req/s / nginx req/s of the same run; CPU us/req: the server's user+system")
    out.append("   CPU time over the run / requests")


def put(rows, out):
    out.append("2. PUT throughput, putload -c32; median of runs")
    out.append(f"{'size':<5} {'target':<12} {'objects/s':>10} {'MiB/s':>8} {'p50 ms':>8} {'p99 ms':>8}  errors  vs S3")
    for size in ("4KiB", "1MiB"):
        s3 = None
        lines = []
        for target in ("s3-direct", "objstore-L1", "objstore-L0"):
            rs = pick(rows, bench="put", target=target, sizename=size)
            ops = med([r["objects_per_s"] for r in rs])
            if target == "s3-direct":
                s3 = ops
            lines.append((target, ops, med([r["mib_per_s"] for r in rs]), med([r["p50_ms"] for r in rs]),
                          med([r["p99_ms"] for r in rs]), sum(r["errors"] for r in rs), len(rs)))
        for target, ops, mibs, p50, p99, errs, n in lines:
            rel = f"{ops / s3:.2f}x" if s3 else "-"
            out.append(f"{size:<5} {target:<12} {ops:>10.0f} {mibs:>8.1f} {p50:>8.1f} {p99:>8.1f}  {errs:>6}  {rel:>5}  (n={n})")


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
    for target in ("objstore-single", "nginx-single", "objstore", "nginx-cache", "s3-nocache"):
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
    out.extend(verdicts)
    out.append("   origin GETs: GETs of the object counted by the proxy in each run (distinct values listed)")


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
    put(rows, out)
    out.append("")
    stampede(rows, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()

// objstore status page: fetches /api/v1/status from the node that served
// it every few seconds and draws it. No dependencies, nothing loaded from
// anywhere else (the page's Content-Security-Policy forbids it).
"use strict";

(function () {
  const REFRESH_MS = 2000;
  const TIMEOUT_MS = 8000;
  const TOKEN_KEY = "objstore-status-token";
  const SVG = "http://www.w3.org/2000/svg";

  const $ = (id) => document.getElementById(id);

  // ---- formatting -------------------------------------------------------

  const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

  function num(x) {
    if (!isFinite(x)) return "–";
    const a = Math.abs(x);
    if (a >= 1e9) return (x / 1e9).toFixed(2) + " G";
    if (a >= 1e6) return (x / 1e6).toFixed(2) + " M";
    if (a >= 1e4) return (x / 1e3).toFixed(1) + " k";
    if (a >= 100) return int.format(x);
    if (a >= 10) return x.toFixed(1);
    if (a === 0) return "0";
    return x.toFixed(2);
  }

  function bytes(x) {
    if (!isFinite(x)) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let i = 0;
    while (Math.abs(x) >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return (i === 0 ? int.format(x) : x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)) + " " + units[i];
  }

  function usd(x) {
    if (!isFinite(x)) return "–";
    const a = Math.abs(x);
    const digits = a === 0 ? 2 : a < 0.01 ? 5 : a < 1 ? 4 : 2;
    return (x < 0 ? "−$" : "$") + a.toFixed(digits);
  }

  function pct(x) {
    if (x < 0 || !isFinite(x)) return "–";
    if (x > 0 && x < 0.001) return "< 0.1 %";
    return (x * 100).toFixed(x >= 0.9995 ? 0 : 1) + " %";
  }

  function duration(sec) {
    if (!isFinite(sec) || sec < 0) return "–";
    if (sec < 10) return (Math.round(sec * 10) / 10) + " s";
    if (sec < 120) return Math.round(sec) + " s";
    if (sec < 5400) return Math.round(sec / 60) + " min";
    if (sec < 172800) return (sec / 3600).toFixed(1) + " h";
    return (sec / 86400).toFixed(1) + " d";
  }

  function ago(ms, now) { return duration((now - ms) / 1000) + " ago"; }

  function text(id, s, value) {
    const el = $(id);
    el.textContent = s;
    if (value !== undefined) el.dataset.value = String(value);
  }

  // ---- charts -------------------------------------------------------------

  function el(name, attrs) {
    const e = document.createElementNS(SVG, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  // chart draws pts (objects with t, ms since the epoch) as a line over the
  // window ending now; value(p) gives the y value, null for a gap.
  function chart(id, pts, value, opts) {
    const box = $(id);
    const w = 300, h = 64, pad = 3;
    const from = opts.now - opts.windowMs;
    const vals = pts.filter((p) => p.t >= from && value(p) !== null);
    box.replaceChildren();
    if (vals.length === 0) {
      const e = document.createElement("div");
      e.className = "empty";
      e.textContent = opts.empty || "no reads yet";
      box.append(e);
      return;
    }
    let max = opts.max !== undefined ? opts.max : Math.max(...vals.map(value));
    let min = opts.min !== undefined ? opts.min : Math.min(0, ...vals.map(value));
    if (max <= min) max = min + 1;
    const x = (t) => ((t - from) / opts.windowMs) * w;
    const y = (v) => h - pad - ((v - min) / (max - min)) * (h - 2 * pad);
    const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", role: "img" });
    const title = el("title", {});
    title.textContent = opts.title(vals[vals.length - 1]);
    svg.append(title, el("line", { class: "axis", x1: 0, x2: w, y1: h - 0.5, y2: h - 0.5, "vector-effect": "non-scaling-stroke" }));
    // Split the series where samples are missing (more than 2.5 intervals
    // apart), so a gap is drawn as one rather than as a slope.
    const runs = [];
    let run = [];
    for (const p of vals) {
      if (run.length && p.t - run[run.length - 1].t > opts.gapMs) { runs.push(run); run = []; }
      run.push(p);
    }
    runs.push(run);
    for (const r of runs) {
      const line = r.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(value(p)).toFixed(1)}`).join("");
      const first = x(r[0].t).toFixed(1), last = x(r[r.length - 1].t).toFixed(1);
      if (r.length > 1) {
        svg.append(el("path", { class: "area", d: `${line}L${last},${h}L${first},${h}Z` }));
      }
      svg.append(el("path", { class: "line", d: line, "vector-effect": "non-scaling-stroke" }));
    }
    const p = vals[vals.length - 1];
    svg.append(el("circle", { class: "dot", cx: x(p.t), cy: y(value(p)), r: 2.5 }));
    box.append(svg);
  }

  // ---- rendering --------------------------------------------------------

  // average is the reads and bytes per second over the spans that end
  // after from, weighted by their length; null when there are none.
  function average(hist, from) {
    let secs = 0, reads = 0, by = 0;
    for (const p of hist) {
      if (p.t <= from) continue;
      secs += p.seconds;
      reads += p.reads_per_sec * p.seconds;
      by += p.bytes_per_sec * p.seconds;
    }
    return secs > 0 ? { reads: reads / secs, bytes: by / secs } : null;
  }

  function render(r) {
    const now = r.now;
    const hist = r.history || [];
    const last = hist.length ? hist[hist.length - 1] : null;
    const copts = { now, windowMs: r.window_seconds * 1000, gapMs: r.interval_seconds * 2500 };

    text("node-id", r.node_id);
    $("node-id").title = r.node_id;
    text("version", r.version ? "v" + r.version.replace(/^v/, "") : "");
    text("uptime", "up " + duration((now - r.started) / 1000));
    text("window", duration(r.window_seconds));
    text("interval", duration(r.interval_seconds));

    const rd = r.reads;
    const served = rd.hits + rd.origin;
    text("hit-ratio", pct(rd.hit_ratio), rd.hit_ratio);
    text("hits-detail", `${int.format(rd.hits)} hits · ${int.format(rd.origin)} from the origin · ${int.format(rd.misses)} not found`);
    chart("chart-hits", hist, (p) => (p.hit_ratio < 0 ? null : p.hit_ratio), Object.assign({ min: 0, max: 1,
      title: (p) => "hit ratio " + pct(p.hit_ratio) }, copts));

    const avg = average(hist, now - 60000);
    text("rate-reads", avg ? num(avg.reads) : "–", avg ? avg.reads : "");
    text("rate-bytes", avg ? bytes(avg.bytes) + "/s" : "–", avg ? avg.bytes : "");
    text("rate-now", last ? num(last.reads_per_sec) + "/s" : "–", last ? last.reads_per_sec : "");
    text("reads-total", int.format(served), served);
    chart("chart-rate", hist, (p) => p.reads_per_sec, Object.assign({ min: 0, empty: "collecting samples",
      title: (p) => num(p.reads_per_sec) + " reads/s, " + bytes(p.bytes_per_sec) + "/s" }, copts));

    const s = r.savings;
    text("saved-usd", usd(s.usd), s.usd);
    text("saved-detail", `${int.format(s.origin_gets_avoided)} origin GETs and ${bytes(s.bytes_avoided)} of egress avoided ` +
      `(at $${s.prices.egress_per_gb}/GB, $${s.prices.get_per_1000}/1k GETs)`);
    chart("chart-saved", hist, (p) => p.usd_saved, Object.assign({ empty: "collecting samples",
      title: (p) => usd(p.usd_saved) + " saved" }, copts));

    renderDisk(r.disk);
    renderMembers(r.members);
    renderOrigin(r, now);
  }

  function renderDisk(d) {
    const bound = d.quota_bytes || d.capacity_bytes;
    let frac = 0, pinned = 0;
    text("disk-used", bytes(d.bodies_bytes), d.bodies_bytes);
    if (bound > 0) {
      frac = d.bodies_bytes / bound;
      pinned = d.pinned_bytes / bound;
      text("disk-of", " of " + bytes(bound));
    } else if (d.fs_total_bytes > 0) {
      frac = d.fs_used_bytes / d.fs_total_bytes;
      text("disk-of", " of " + bytes(d.fs_total_bytes));
    } else {
      text("disk-of", "");
    }
    $("disk-fill").style.width = Math.min(frac, 1) * 100 + "%";
    $("disk-pinned").style.width = Math.min(pinned, 1) * 100 + "%";
    $("disk-bar").dataset.level = frac >= 0.9 ? "high" : "normal";
    let detail;
    if (d.quota_bytes > 0) {
      detail = `${pct(frac)} of the quota`;
    } else if (d.capacity_bytes > 0) {
      detail = `${pct(frac)} of what the disk's watermark leaves`;
    } else {
      detail = `file system ${pct(frac)} used`;
    }
    if (d.policy) detail += ` · ${d.policy} · ${int.format(d.evictions)} evicted · ${bytes(d.pinned_bytes)} pinned (only copies)`;
    text("disk-detail", detail);
  }

  function renderMembers(ms) {
    const list = $("members");
    const counts = {};
    const items = ms.map((m) => {
      counts[m.state] = (counts[m.state] || 0) + 1;
      const li = document.createElement("li");
      li.dataset.memberId = m.id;
      li.dataset.state = m.state;
      li.dataset.self = m.self ? "true" : "false";
      const dot = document.createElement("span");
      dot.className = "state";
      dot.title = m.state;
      const id = document.createElement("div");
      id.className = "id";
      id.textContent = m.id;
      id.title = m.id;
      if (m.self) {
        const tag = document.createElement("em");
        tag.textContent = "this node";
        id.append(tag);
      }
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = `${m.state} · ${m.addr}`;
      li.append(dot, id, meta);
      return li;
    });
    list.replaceChildren(...items);
    const order = ["alive", "suspect", "dead", "left"];
    const parts = order.filter((k) => counts[k]).map((k) => `${counts[k]} ${k}`);
    text("members-summary", parts.join(" · "));
  }

  function renderOrigin(r, now) {
    const o = r.origin;
    const badge = $("origin-state");
    if (!o) {
      text("origin-state", "no state kept");
      badge.dataset.state = "";
      text("origin-since", "");
      $("origin-error").hidden = true;
    } else {
      text("origin-state", o.state.replace(/_/g, " "));
      badge.dataset.state = o.state === "ok" ? "ok" : "bad";
      text("origin-since", "since " + ago(Date.parse(o.since), now) + (o.checked ? " · checked " + ago(Date.parse(o.checked), now) : ""));
      $("origin-error").hidden = !o.error;
      text("origin-error", o.error || "");
    }
    text("objects", int.format(r.objects.objects));
    text("objects-bytes", bytes(r.objects.bytes));
    text("origin-reads", int.format(r.reads.origin));
    const i = r.integrity;
    text("integrity", `${int.format(i.repaired)} / ${int.format(i.lost)}`);
  }

  // ---- fetching ---------------------------------------------------------

  function live(state, msg) {
    const l = $("live");
    l.dataset.state = state;
    text("live-text", msg);
  }

  function askToken(reason) {
    $("main").hidden = true;
    $("auth").hidden = false;
    text("auth-reason", reason);
    live("error", "needs a token");
  }

  async function refresh() {
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch("/api/v1/status", { headers, cache: "no-store", signal: ctl.signal });
      if (res.status === 401 || res.status === 403) {
        askToken(res.status === 403 && token ? "That token was refused; try again." : "This node's native API requires authentication.");
        return;
      }
      if (!res.ok) throw new Error("HTTP " + res.status + ": " + (await res.text()).trim());
      const r = await res.json();
      $("auth").hidden = true;
      $("main").hidden = false;
      render(r);
      live("ok", "live");
      $("live").title = "updated " + new Date().toLocaleTimeString();
    } catch (err) {
      live("error", "no answer");
      $("live").title = String(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async function loop() {
    await refresh();
    if (!$("auth").hidden) return; // waits for a token
    setTimeout(loop, REFRESH_MS);
  }

  $("auth").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const tok = $("auth-token").value.trim();
    if (!tok) return;
    sessionStorage.setItem(TOKEN_KEY, tok);
    $("auth-token").value = "";
    loop();
  });

  loop();
})();

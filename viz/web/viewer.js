"use strict";
// ordo's trace viewer: a space-time diagram drawn on a canvas, only what
// is on screen. The data is the Model of viz/web (page.go).
(function () {
  const M = JSON.parse(document.getElementById("ordo-data").textContent);
  const E = M.events;
  const P = M.picture; // viz.Picture: the model the terminal and SVG draw too
  const N = P.lanes.length;
  const TOP = 26, PAD = 40;
  let LANE_H = 46; // grows to fill the window when there are few lanes
  const $ = (id) => document.getElementById(id);

  // ---- structure: links, program order, lane states ----
  // Links join a receive (or a drop) to its send, by event index.
  const links = P.msgs.map((m) => ({ s: P.marks[m.from].event, r: P.marks[m.to].event }))
    .concat(P.drops.map((d) => ({ s: P.marks[d.send].event, r: d.event, d: true })));
  const sendOf = new Int32Array(E.length).fill(-1); // receive or drop → its send
  const recvsOf = new Map(); // send → receives and drops
  for (const l of links) {
    sendOf[l.r] = l.s;
    if (!recvsOf.has(l.s)) recvsOf.set(l.s, []);
    recvsOf.get(l.s).push(l.r);
  }
  const stamped = (e) => e.kind !== "drop" && e.kind !== "fault";
  const prevOnLane = new Int32Array(E.length).fill(-1);
  const nextOnLane = new Int32Array(E.length).fill(-1);
  {
    const last = new Int32Array(N + 1).fill(-1);
    E.forEach((e, i) => {
      if (!stamped(e) || e.node < 1 || e.node > N) return;
      const p = last[e.node];
      if (p >= 0) { prevOnLane[i] = p; nextOnLane[p] = i; }
      last[e.node] = i;
    });
  }
  // Lane states from the marks: down after a crash until the restart,
  // paused until resume.
  const states = []; // {node, from, to, kind} by event index
  {
    const open = {};
    for (const mk of P.marks) {
      if (mk.lane < 0 || !mk.state) continue;
      const node = mk.lane + 1;
      if (open[node]) { states.push(Object.assign(open[node], { to: mk.event })); delete open[node]; }
      if (mk.state === "down" || mk.state === "paused") open[node] = { node, from: mk.event, kind: mk.state === "down" ? "crash" : "pause" };
    }
    for (const k in open) states.push(Object.assign(open[k], { to: E.length - 1 }));
  }
  // Leaderships, as the nodes announce them (a "leader" note until another
  // role note, a crash or a restart): two gold bands at once is the split
  // brain of the chapter's section 5.
  {
    const open = {}, roles = /^(follower|candidate|precandidate|stepped-down|step-down)$/;
    E.forEach((e, i) => {
      if (e.node < 1 || e.node > N) return;
      const ends = e.kind === "crash" || e.kind === "restart" || (e.kind === "note" && roles.test(e.name || ""));
      if (ends && open[e.node]) { states.push(Object.assign(open[e.node], { to: i })); delete open[e.node]; }
      if (e.kind === "note" && e.name === "leader" && !open[e.node]) open[e.node] = { node: e.node, from: i, kind: "leader" };
    });
    for (const k in open) states.push(Object.assign(open[k], { to: E.length - 1 }));
  }
  const kinds = [...new Set(E.filter((e) => e.kind === "send").map((e) => e.msg_kind || ""))].sort();

  // ---- view state ----
  const view = {
    axis: "order", zoom: 28, scrollX: 0, kind: "", hidden: new Set(), tFrom: null, tTo: null,
    selected: -1, second: -1, past: null, future: null, chain: null, finding: null, recent: null,
  };
  let T0 = E.length ? E[0].t : 0, tMax = T0;
  for (const e of E) { if (e.t < T0) T0 = e.t; if (e.t > tMax) tMax = e.t; }
  const tSpan = Math.max(1, tMax - T0);
  function xOf(i) {
    if (view.axis === "time") return PAD + ((E[i].t - T0) / tSpan) * Math.max(1, E.length - 1) * view.zoom;
    return PAD + i * view.zoom;
  }
  let byX = null; // event indexes sorted by x (time axis: times may go back)
  function sortByX() {
    byX = Int32Array.from(E.keys());
    if (view.axis === "time") byX.sort((a, b) => E[a].t - E[b].t || a - b);
  }
  function laneIndex() { // node → row, hidden nodes left out
    const rows = new Int32Array(N + 1).fill(-1);
    let r = 0;
    for (let n = 1; n <= N; n++) if (!view.hidden.has(n)) rows[n] = r++;
    return { rows, count: r };
  }
  const yOfRow = (r) => TOP + r * LANE_H + LANE_H / 2;
  const totalWidth = () => PAD * 2 + Math.max(1, E.length - 1) * view.zoom;

  // ---- colours ----
  function hue(s) { let h = 0; for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0; return h % 360; }
  const kindColour = (k) => `hsl(${hue(k || "-")}, 62%, 42%)`;

  // ---- canvas ----
  const canvas = $("view"), box = $("canvasBox"), ctx = canvas.getContext("2d");
  let drawn = []; // {i, x, y} of the last frame, for hover and click
  function resize() {
    const { count } = laneIndex();
    LANE_H = Math.max(46, Math.min(110, Math.floor(($("diagram").clientHeight - TOP - 10) / Math.max(1, count))));
    const w = box.clientWidth, h = TOP + count * LANE_H + 10;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = w * dpr; canvas.height = h * dpr;
    canvas.style.width = w + "px"; canvas.style.height = h + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const names = $("names");
    names.style.height = h + "px";
    names.innerHTML = "";
    const { rows } = laneIndex();
    for (let n = 1; n <= N; n++) {
      if (rows[n] < 0) continue;
      const d = document.createElement("div");
      d.textContent = P.lanes[n - 1];
      d.title = P.lanes[n - 1];
      d.style.top = yOfRow(rows[n]) - 9 + "px";
      d.dataset.node = n;
      names.appendChild(d);
    }
    const sc = $("scroll");
    sc.max = Math.max(0, Math.ceil(totalWidth() - w));
    view.scrollX = Math.min(view.scrollX, +sc.max);
    sc.value = view.scrollX;
  }
  function firstAtOrAfter(x) { // in byX
    let lo = 0, hi = byX.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (xOf(byX[m]) < x) lo = m + 1; else hi = m; }
    return lo;
  }
  function visibleKind(i) {
    const e = E[i];
    if (view.tFrom !== null && e.t < view.tFrom) return false;
    if (view.tTo !== null && e.t > view.tTo) return false;
    if (!view.kind) return true;
    return (e.kind !== "send" && e.kind !== "recv" && e.kind !== "drop") || (e.msg_kind || "") === view.kind;
  }
  // The time window: only events in it are drawn, and it fills the view.
  function setWindow(fromMs, toMs) {
    view.tFrom = fromMs === null ? null : fromMs * 1e6;
    view.tTo = toMs === null ? null : toMs * 1e6;
    let lo = -1, hi = -1;
    for (const i of byX) {
      if (!visibleKind(i)) continue;
      if (lo < 0) lo = i;
      hi = i;
    }
    if (lo >= 0 && (view.tFrom !== null || view.tTo !== null)) {
      const span = Math.max(1, (xOf(hi) - xOf(lo)) / view.zoom);
      view.zoom = Math.max(0.02, Math.min(200, (box.clientWidth - 2 * PAD) / span));
      resize();
      scrollTo(xOf(lo) - PAD);
    }
    draw();
    return lo >= 0 ? E[lo].id : -1;
  }
  function draw() {
    const w = box.clientWidth, h = canvas.height / (window.devicePixelRatio || 1);
    const left = view.scrollX, right = view.scrollX + w;
    const { rows } = laneIndex();
    ctx.clearRect(0, 0, w, h);
    ctx.save();
    ctx.translate(-left, 0);
    // Lanes, with down and paused stretches.
    for (let n = 1; n <= N; n++) {
      if (rows[n] < 0) continue;
      const y = yOfRow(rows[n]);
      ctx.strokeStyle = "#9aa3b2"; ctx.lineWidth = 1; ctx.setLineDash([]);
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(right, y); ctx.stroke();
    }
    for (const s of states) {
      if (rows[s.node] < 0) continue;
      const x1 = xOf(s.from), x2 = xOf(s.to);
      if (x2 < left || x1 > right) continue;
      const y = yOfRow(rows[s.node]);
      if (s.kind === "leader") {
        ctx.fillStyle = "rgba(212,160,0,0.55)";
        ctx.fillRect(x1, y - 3, x2 - x1, 6);
        continue;
      }
      ctx.fillStyle = s.kind === "crash" ? "rgba(196,49,75,0.10)" : "rgba(230,140,0,0.13)";
      ctx.fillRect(x1, y - LANE_H / 2 + 4, x2 - x1, LANE_H - 8);
    }
    const dim = view.selected >= 0 || view.finding;
    const lit = (i) => !dim || i === view.selected || i === view.second ||
      (view.past && view.past.has(i)) || (view.future && view.future.has(i)) ||
      (view.finding && view.finding.has(i)) || (view.chain && view.chain.includes(i));
    // Messages crossing the view.
    for (const l of links) {
      const xs = xOf(l.s), xr = xOf(l.r);
      if (Math.max(xs, xr) < left - 50 || Math.min(xs, xr) > right + 50) continue;
      const s = E[l.s], r = E[l.r];
      if (rows[s.node] < 0) continue;
      if (!visibleKind(l.s)) continue;
      const peer = l.d ? r.peer : r.node;
      if (peer < 1 || peer > N || rows[peer] < 0) continue;
      const y1 = yOfRow(rows[s.node]), y2 = yOfRow(rows[peer]);
      const on = lit(l.s) && lit(l.r);
      const inChain = view.chain && view.chain.includes(l.s) && view.chain.includes(l.r);
      ctx.globalAlpha = on ? 1 : 0.22;
      ctx.strokeStyle = l.d ? "#c4314b" : kindColour(s.msg_kind);
      ctx.lineWidth = inChain ? 3 : 1.2;
      ctx.setLineDash(l.d ? [4, 3] : []);
      const yEnd = l.d ? y1 + (y2 - y1) * 0.6 : y2;
      const xEnd = l.d ? xs + (xr - xs) * 0.6 + 0.6 * view.zoom : xr;
      ctx.beginPath(); ctx.moveTo(xs, y1); ctx.lineTo(xEnd, yEnd); ctx.stroke();
      ctx.setLineDash([]);
      if (l.d) {
        ctx.beginPath(); ctx.moveTo(xEnd - 4, yEnd - 4); ctx.lineTo(xEnd + 4, yEnd + 4);
        ctx.moveTo(xEnd + 4, yEnd - 4); ctx.lineTo(xEnd - 4, yEnd + 4); ctx.stroke();
      } else {
        const a = Math.atan2(y2 - y1, xr - xs);
        ctx.fillStyle = ctx.strokeStyle;
        ctx.beginPath(); ctx.moveTo(xr, y2);
        ctx.lineTo(xr - 8 * Math.cos(a - 0.35), y2 - 8 * Math.sin(a - 0.35));
        ctx.lineTo(xr - 8 * Math.cos(a + 0.35), y2 - 8 * Math.sin(a + 0.35));
        ctx.fill();
      }
    }
    ctx.globalAlpha = 1;
    // Events in view.
    drawn = [];
    const from = firstAtOrAfter(left - 20), labels = view.zoom >= 26;
    let count = 0;
    for (let k = from; k < byX.length; k++) {
      const i = byX[k], x = xOf(i);
      if (x > right + 20) break;
      const e = E[i];
      if (e.kind === "fault") {
        if (!visibleKind(i)) continue;
        ctx.strokeStyle = "#7b3fb0"; ctx.setLineDash([6, 4]); ctx.lineWidth = 1.5;
        ctx.globalAlpha = lit(i) ? 1 : 0.25;
        ctx.beginPath(); ctx.moveTo(x, 14); ctx.lineTo(x, h - 4); ctx.stroke(); ctx.setLineDash([]);
        ctx.fillStyle = "#7b3fb0"; ctx.fillText(e.name || "fault", x + 3, 12);
        drawn.push({ i, x, y: 14 });
        continue;
      }
      if (e.kind === "drop") continue; // drawn with its message
      if (e.node < 1 || e.node > N || rows[e.node] < 0 || !visibleKind(i)) continue;
      const y = yOfRow(rows[e.node]);
      ctx.globalAlpha = lit(i) ? 1 : 0.3;
      glyph(e, x, y);
      if (view.past && view.past.has(i) && !view.finding) ring(x, y, "#2a6fdb"); // a finding's past is lit, not ringed
      if (view.future && view.future.has(i)) ring(x, y, "#e07b00");
      if (view.finding && view.finding.has(i)) ring(x, y, "#c0148a", 9);
      if (view.recent && view.recent.has(i)) ring(x, y, "#2f8f4e", 8);
      if (i === view.selected || i === view.second) ring(x, y, "#111", 10);
      if (labels) {
        ctx.fillStyle = "#3b4352"; ctx.font = "10px ui-monospace, monospace";
        const t = label(e);
        ctx.fillText(t.length > view.zoom / 6 ? t.slice(0, Math.max(1, Math.floor(view.zoom / 6))) + "…" : t, x - 8, y + 17);
      }
      drawn.push({ i, x, y });
      count++;
    }
    ctx.globalAlpha = 1;
    ctx.restore();
    view.drawnEvents = count;
  }
  function ring(x, y, colour, r = 7) {
    ctx.strokeStyle = colour; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.stroke();
  }
  function glyph(e, x, y) {
    ctx.lineWidth = 1.5;
    switch (e.kind) {
      case "send": case "recv":
        ctx.fillStyle = e.kind === "send" ? kindColour(e.msg_kind) : "#1d2330";
        ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fill(); break;
      case "timer":
        ctx.strokeStyle = "#5b6475"; ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.stroke(); break;
      case "note": {
        if (e.name === "byzantine") { // a lie the simulator's adversary told: a red diamond
          ctx.fillStyle = "#c4314b";
          ctx.beginPath(); ctx.moveTo(x, y - 7); ctx.lineTo(x + 7, y); ctx.lineTo(x, y + 7); ctx.lineTo(x - 7, y); ctx.fill(); break;
        }
        const leader = /leader|elected/.test(e.name || "");
        ctx.fillStyle = leader ? "#d4a000" : "#4a7a9c"; ctx.fillRect(x - 4, y - 4, 8, 8); break;
      }
      case "crash":
        ctx.strokeStyle = "#c4314b"; ctx.lineWidth = 3;
        ctx.beginPath(); ctx.moveTo(x - 6, y - 6); ctx.lineTo(x + 6, y + 6); ctx.moveTo(x + 6, y - 6); ctx.lineTo(x - 6, y + 6); ctx.stroke(); break;
      case "start": case "restart":
        ctx.fillStyle = "#2f8f4e";
        ctx.beginPath(); ctx.moveTo(x - 5, y - 6); ctx.lineTo(x + 6, y); ctx.lineTo(x - 5, y + 6); ctx.fill(); break;
      case "pause": case "resume":
        ctx.fillStyle = "#e08a00"; ctx.fillRect(x - 5, y - 6, 3, 12); ctx.fillRect(x + 1, y - 6, 3, 12); break;
      default:
        ctx.fillStyle = "#888"; ctx.fillRect(x - 3, y - 3, 6, 6);
    }
  }
  const label = (e) => e.kind === "send" || e.kind === "recv" ? (e.msg_kind || e.kind) : (e.name || e.kind);

  // ---- words ----
  const nodeName = (n) => (n >= 1 && n <= N ? P.lanes[n - 1] : n >= 1 << 20 ? "client call" : "n" + n);
  function describe(i) {
    const e = E[i];
    let s = `e${e.id} `;
    switch (e.kind) {
      case "send": s += `${nodeName(e.node)} sends ${e.msg_kind || "?"} to ${nodeName(e.peer)}`; break;
      case "recv": s += `${nodeName(e.node)} receives ${e.msg_kind || "?"} from ${nodeName(e.peer)}`; break;
      case "drop": s += `${e.msg_kind || "message"} from ${nodeName(e.node)} to ${nodeName(e.peer)} dropped${e.name ? " (" + e.name + ")" : ""}`; break;
      case "fault": s += `fault ${e.name || ""}`; break;
      default: s += `${nodeName(e.node)} ${e.kind}${e.name ? " " + e.name : ""}`;
    }
    for (const a of e.attrs || []) s += ` ${a.k}=${typeof a.v === "object" ? JSON.stringify(a.v) : a.v}`;
    return s;
  }
  const stamps = (e) => stamped(e) ? `\nLamport ${e.lamport}` + (e.vc ? `  vector [${e.vc.join(",")}]` : "") : "";
  const time = (t) => (t / 1e6).toFixed(3) + " ms";

  // ---- happens-before: the causal past and future by the event graph ----
  function reach(start, forward) {
    const seen = new Set([start]), todo = [start];
    while (todo.length) {
      const i = todo.pop();
      const next = [];
      if (forward) {
        if (nextOnLane[i] >= 0) next.push(nextOnLane[i]);
        for (const r of recvsOf.get(i) || []) if (E[r].kind === "recv") next.push(r);
      } else {
        if (prevOnLane[i] >= 0) next.push(prevOnLane[i]);
        if (E[i].kind === "recv" && sendOf[i] >= 0) next.push(sendOf[i]);
      }
      for (const j of next) if (!seen.has(j)) { seen.add(j); todo.push(j); }
    }
    seen.delete(start);
    return seen;
  }
  function chain(a, b) { // shortest a → b path, or null
    const parent = new Map([[a, -1]]), todo = [a];
    for (let h = 0; h < todo.length; h++) {
      const i = todo[h];
      if (i === b) break;
      const next = [];
      if (nextOnLane[i] >= 0) next.push(nextOnLane[i]);
      for (const r of recvsOf.get(i) || []) if (E[r].kind === "recv") next.push(r);
      for (const j of next) if (!parent.has(j)) { parent.set(j, i); todo.push(j); }
    }
    if (!parent.has(b)) return null;
    const path = [];
    for (let i = b; i !== -1; i = parent.get(i)) path.push(i);
    return path.reverse();
  }

  // ---- selection ----
  function select(i, second) {
    if (i < 0 || i >= E.length) return;
    if (second && view.selected >= 0 && i !== view.selected) {
      view.second = i;
      const a = view.selected, b = i;
      const ab = chain(a, b), ba = ab ? null : chain(b, a);
      view.chain = ab || ba;
      showRelation(a, b, ab, ba);
    } else {
      view.selected = i; view.second = -1; view.chain = null;
      const e = E[i];
      view.past = stamped(e) ? reach(i, false) : null;
      view.future = stamped(e) ? reach(i, true) : null;
      $("relation").innerHTML = "";
      showDetails(i);
      history.replaceState(null, "", "#e=" + e.id);
    }
    view.finding = null;
    reveal(i);
    draw();
  }
  function clearSelection() {
    view.selected = view.second = -1; view.past = view.future = view.chain = view.finding = null;
    $("details").innerHTML = '<span class="hint">Click an event. Shift-click a second one to see how they are ordered. ← → step through the run; Esc clears.</span>';
    $("relation").innerHTML = "";
    draw();
  }
  function showDetails(i) {
    const e = E[i], d = $("details");
    d.innerHTML = "";
    const h = document.createElement("div");
    h.textContent = describe(i) + " at " + time(e.t) + stamps(e);
    h.style.whiteSpace = "pre-wrap";
    d.appendChild(h);
    if (sendOf[i] >= 0) d.appendChild(stepLink(sendOf[i], "its send: "));
    for (const r of recvsOf.get(i) || []) d.appendChild(stepLink(r, E[r].kind === "drop" ? "dropped: " : "received: "));
    // The message itself, when the run kept it (a stepped simulation,
    // ordo sim --messages): the body of its send event.
    const si = e.kind === "send" ? i : sendOf[i];
    if (si >= 0 && E[si].body !== undefined) {
      const h2 = document.createElement("div"); h2.className = "hint"; h2.textContent = "message " + (E[si].msg_kind || "");
      const mp = document.createElement("pre"); mp.id = "message"; mp.textContent = JSON.stringify(E[si].body, null, 2);
      d.appendChild(h2); d.appendChild(mp);
    }
    const pre = document.createElement("pre");
    pre.textContent = JSON.stringify(e, null, 2);
    d.appendChild(pre);
    if (view.past) {
      const c = document.createElement("div");
      c.className = "hint";
      c.textContent = `causal past ${view.past.size} events (blue), future ${view.future.size} (orange)`;
      d.appendChild(c);
    }
  }
  function stepLink(i, prefix) {
    const a = document.createElement("span");
    a.className = "step"; a.textContent = prefix + describe(i);
    a.addEventListener("click", () => select(i));
    const wrap = document.createElement("div"); wrap.appendChild(a);
    return wrap;
  }
  function showRelation(a, b, ab, ba) {
    const r = $("relation");
    r.innerHTML = "";
    const h = document.createElement("div");
    h.style.fontWeight = "600";
    const ea = "e" + E[a].id, eb = "e" + E[b].id;
    h.textContent = ab ? `${ea} → ${eb}: ${ea} happened before ${eb}` : ba ? `${eb} → ${ea}: ${eb} happened before ${ea}` :
      `${ea} ∥ ${eb}: concurrent (neither happened before the other)`;
    h.id = "relation-verdict";
    r.appendChild(h);
    for (const i of ab || ba || []) r.appendChild(stepLink(i, ""));
    // Served by ordo web: the proof from the same code as ordo trace why.
    if (location.protocol.startsWith("http")) {
      const q = new URLSearchParams(location.search);
      q.set("a", E[a].id); q.set("b", E[b].id);
      fetch("/api/why?" + q.toString()).then((resp) => resp.ok ? resp.json() : null).then((x) => {
        if (!x || view.selected !== a || view.second !== b) return;
        const pre = document.createElement("pre");
        pre.id = "why-text"; pre.textContent = x.text;
        r.appendChild(pre);
      }).catch(() => {});
    }
  }
  function reveal(i) {
    const w = box.clientWidth, x = xOf(i);
    if (x < view.scrollX + 40 || x > view.scrollX + w - 40) view.scrollX = Math.max(0, Math.min(+$("scroll").max, x - w / 2));
    $("scroll").value = view.scrollX;
    const { rows } = laneIndex();
    if (E[i].node >= 1 && rows[E[i].node] >= 0) {
      const y = yOfRow(rows[E[i].node]), dg = $("diagram");
      if (y < dg.scrollTop || y > dg.scrollTop + dg.clientHeight) dg.scrollTop = y - dg.clientHeight / 2;
    }
  }

  // ---- verdicts ----
  function showFindings() {
    const f = $("findings");
    if (!M.results.length) { f.innerHTML = '<span class="hint">No checker ran on this trace.</span>'; }
    if (M.sim && !M.sim.end && M.results.length) {
      const h = document.createElement("div"); h.className = "hint";
      h.textContent = "judged on the run so far: a liveness check (a leader elected, requests completed) may still be met by the end";
      f.appendChild(h);
    }
    M.results.forEach((r, ri) => {
      const d = document.createElement("div");
      d.className = "finding";
      d.dataset.check = r.check;
      const v = r.verdict || (r.ok ? "pass" : "fail");
      d.innerHTML = `<span class="badge ${v}"></span> <b></b> <span class="sum"></span>`;
      d.querySelector(".badge").textContent = v;
      d.querySelector("b").textContent = r.check;
      d.querySelector(".sum").textContent = r.summary || "";
      (r.violations || []).forEach((x, xi) => {
        const line = document.createElement("div");
        line.className = "v"; line.id = `finding-${ri}-${xi}`;
        line.textContent = "▸ " + x.message + (x.events && x.events.length ? ` (${x.events.map((id) => "e" + id).join(", ")})` : "");
        line.addEventListener("click", () => showFinding(x));
        d.appendChild(line);
        // A file the checker wrote to show it (porcupine's visualization).
        if (x.file) {
          const a = document.createElement("a");
          a.className = "porcupine"; a.target = "_blank"; a.textContent = "open the checker's picture of these operations";
          a.href = location.protocol.startsWith("http") ? "/porcupine?path=" + encodeURIComponent(x.file) : "file://" + x.file;
          d.appendChild(a);
        }
      });
      f.appendChild(d);
    });
    for (const w of M.warnings || []) {
      const d = document.createElement("div"); d.className = "warn"; d.textContent = w; f.appendChild(d);
    }
  }
  const indexOfID = new Map(E.map((e, i) => [e.id, i]));
  function showFinding(x) {
    const ids = (x.events || []).map((id) => indexOfID.get(id)).filter((i) => i !== undefined);
    view.selected = -1; view.second = -1; view.past = view.future = null; view.chain = null;
    view.finding = new Set(ids);
    // Light what led to the finding too: the causal past of its events
    // (the message that caused it is in there).
    if (ids.length && E.length <= 200000) {
      view.past = new Set();
      for (const i of ids) if (stamped(E[i])) for (const j of reach(i, false)) if (!view.finding.has(j)) view.past.add(j);
    }
    if (ids.length) {
      // Zoom out until every event of the finding is on screen (down to a
      // floor), then bring the first into view.
      const lo = Math.min(...ids), hi = Math.max(...ids), w = box.clientWidth - 2 * PAD;
      for (let k = 0; k < 40 && xOf(hi) - xOf(lo) > w && view.zoom > 0.05; k++) { view.zoom /= 1.25; }
      resize();
      reveal(lo);
      if (xOf(hi) - view.scrollX > box.clientWidth - PAD) scrollTo(xOf(lo) - PAD);
      const d = $("details");
      d.innerHTML = "";
      const h = document.createElement("div"); h.textContent = x.message; h.style.fontWeight = "600"; d.appendChild(h);
      for (const i of ids) d.appendChild(stepLink(i, ""));
    }
    draw();
  }

  // ---- input ----
  function eventAt(mx, my) {
    let best = -1, bd = 12 * 12;
    for (const d of drawn) {
      const dx = d.x - view.scrollX - mx, dy = d.y - my;
      const dd = E[d.i].kind === "fault" ? dx * dx : dx * dx + dy * dy;
      if (dd < bd) { bd = dd; best = d.i; }
    }
    return best;
  }
  canvas.addEventListener("mousemove", (ev) => {
    const rc = canvas.getBoundingClientRect();
    const i = eventAt(ev.clientX - rc.left, ev.clientY - rc.top);
    const tip = $("tip");
    if (i < 0) { tip.style.display = "none"; return; }
    tip.textContent = describe(i) + "\nat " + time(E[i].t) + stamps(E[i]);
    tip.style.display = "block";
    tip.style.left = ev.clientX + 14 + "px"; tip.style.top = ev.clientY + 12 + "px";
  });
  canvas.addEventListener("mouseleave", () => { $("tip").style.display = "none"; });
  canvas.addEventListener("click", (ev) => {
    const rc = canvas.getBoundingClientRect();
    const i = eventAt(ev.clientX - rc.left, ev.clientY - rc.top);
    if (i >= 0) select(i, ev.shiftKey);
  });
  canvas.addEventListener("wheel", (ev) => {
    if (ev.ctrlKey) { zoom(ev.deltaY < 0 ? 1.25 : 0.8, ev.offsetX); ev.preventDefault(); return; }
    const d = Math.abs(ev.deltaX) > Math.abs(ev.deltaY) ? ev.deltaX : ev.shiftKey ? ev.deltaY : 0;
    if (!d) return;
    scrollTo(view.scrollX + d);
    ev.preventDefault();
  }, { passive: false });
  function scrollTo(x) {
    view.scrollX = Math.max(0, Math.min(+$("scroll").max, x));
    $("scroll").value = view.scrollX;
    requestDraw();
  }
  function zoom(f, at) {
    at = at === undefined ? box.clientWidth / 2 : at;
    const world = (view.scrollX + at) / view.zoom;
    view.zoom = Math.max(0.02, Math.min(200, view.zoom * f));
    resize();
    scrollTo(world * view.zoom - at);
  }
  let pending = false;
  function requestDraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  }
  $("scroll").addEventListener("input", (ev) => scrollTo(+ev.target.value));
  $("zoomIn").addEventListener("click", () => zoom(1.5));
  $("zoomOut").addEventListener("click", () => zoom(1 / 1.5));
  $("axis").addEventListener("change", (ev) => { view.axis = ev.target.value; sortByX(); resize(); if (view.selected >= 0) reveal(view.selected); draw(); });
  const ks = $("kind");
  for (const k of kinds) { const o = document.createElement("option"); o.value = k; o.textContent = k || "(none)"; ks.appendChild(o); }
  ks.addEventListener("change", (ev) => {
    view.kind = ev.target.value;
    if (view.kind) {
      // Bring a message of that kind into view if none is: the next one
      // after the view's left edge, else the first.
      const match = (i) => (E[i].kind === "send" || E[i].kind === "recv") && (E[i].msg_kind || "") === view.kind;
      const from = firstAtOrAfter(view.scrollX), right = view.scrollX + box.clientWidth;
      let hit = -1, first = -1;
      for (let k = 0; k < byX.length; k++) {
        const i = byX[k];
        if (!match(i)) continue;
        if (first < 0) first = i;
        if (k >= from) { hit = i; break; }
      }
      const go = hit >= 0 ? hit : first;
      if (go >= 0 && (xOf(go) < view.scrollX || xOf(go) > right)) reveal(go);
      $("kindCount").textContent = E.filter((e) => e.kind === "send" && (e.msg_kind || "") === view.kind).length + " sent";
    } else $("kindCount").textContent = "";
    draw();
  });
  {
    const nf = $("nodeFilter");
    if (N <= 32) for (let n = 1; n <= N; n++) {
      const l = document.createElement("label");
      const c = document.createElement("input");
      c.type = "checkbox"; c.checked = true; c.id = "node-" + n;
      c.addEventListener("change", () => { if (c.checked) view.hidden.delete(n); else view.hidden.add(n); resize(); draw(); });
      l.appendChild(c); l.append(P.lanes[n - 1].split(" ")[0] + " "); l.title = P.lanes[n - 1];
      nf.appendChild(l);
    }
  }
  {
    const ms = (v) => (v.trim() === "" || isNaN(+v) ? null : +v);
    const apply = () => setWindow(ms($("tFrom").value), ms($("tTo").value));
    $("tFrom").addEventListener("change", apply);
    $("tTo").addEventListener("change", apply);
  }
  $("goto").addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    const i = indexOfID.get(parseInt(ev.target.value.replace(/^e/, ""), 10));
    if (i !== undefined) select(i);
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT") return;
    if (ev.key === "Escape") { clearSelection(); ev.preventDefault(); return; }
    if (M.sim && ev.key === ".") simGo({ go: "next" });
    else if (M.sim && ev.key === ",") simGo({ go: "back" });
    else if (ev.key === "ArrowRight") select(Math.min(E.length - 1, view.selected + 1));
    else if (ev.key === "ArrowLeft") select(Math.max(0, view.selected - 1));
    else if (ev.key === "+" || ev.key === "=") zoom(1.5);
    else if (ev.key === "-") zoom(1 / 1.5);
    else return;
    ev.preventDefault();
  });
  window.addEventListener("resize", () => { resize(); draw(); });

  // ---- start ----
  $("meta").textContent = `${M.meta.runtime || ""} run of ${M.meta.protocol || "(no protocol)"}, ${N} nodes, ${E.length} events` +
    (M.meta.seed ? `, seed ${M.meta.seed}` : "");
  sortByX();
  // Fit a small run on screen; a large one starts at its beginning.
  view.zoom = Math.max(4, Math.min(40, (box.clientWidth - 2 * PAD) / Math.max(1, E.length - 1)));
  resize();
  showFindings();
  draw();
  const m = /^#e=(\d+)$/.exec(location.hash);
  if (m && indexOfID.has(+m[1])) select(indexOfID.get(+m[1]));
  else if (M.sim && E.length) {
    // Where the run is now: the last step's events ringed in green, in
    // view; nothing dimmed until the user selects.
    const k = M.sim.last_events || 0;
    view.recent = new Set();
    for (let i = Math.max(0, E.length - k); i < E.length; i++) view.recent.add(i);
    reveal(E.length - 1); draw();
  }
  if (M.sim) simPanel(M.sim);

  // ---- a stepped simulation (ordo web SCENARIO): the URL is the state ----
  function simURL(S, change) {
    const q = new URLSearchParams();
    q.set("scenario", change.scenario ?? S.scenario);
    if (!change.scenario) {
      q.set("seed", change.seed ?? S.seed);
      for (const j of S.injected) q.append("inject", j.pos + ":" + j.fault);
      if (change.inject) q.append("inject", S.pos + ":" + change.inject);
      q.set("pos", change.pos ?? S.pos);
      if (change.go) q.set("go", change.go);
    }
    return "/sim?" + q.toString();
  }
  function simGo(change) { location.assign(simURL(M.sim, change)); }
  function simPanel(S) {
    $("simPanel").hidden = false;
    $("simNodes").hidden = false;
    const sel = $("simScenario");
    for (const n of S.scenarios.includes(S.scenario) ? S.scenarios : [S.scenario].concat(S.scenarios)) {
      const o = document.createElement("option"); o.value = n; o.textContent = n; o.selected = n === S.scenario; sel.appendChild(o);
    }
    sel.addEventListener("change", () => simGo({ scenario: sel.value }));
    $("simSeed").value = S.seed;
    $("simSeedGo").addEventListener("click", () => {
      const v = $("simSeed").value.trim();
      if (/^\d+$/.test(v)) simGo({ seed: v }); else $("simSeed").setCustomValidity("a whole number");
    });
    $("simStart").addEventListener("click", () => simGo({ pos: 0 }));
    $("simBack").addEventListener("click", () => simGo({ go: "back" }));
    $("simNext").addEventListener("click", () => simGo({ go: "next" }));
    $("simPlus").addEventListener("click", () => simGo({ go: "+100" }));
    $("simEnd").addEventListener("click", () => simGo({ go: "end" }));
    $("simBack").disabled = $("simStart").disabled = S.pos === 0;
    $("simNext").disabled = $("simPlus").disabled = $("simEnd").disabled = S.end;
    const inject = () => { const f = $("simFault").value.trim(); if (f) simGo({ inject: f }); };
    $("simInject").addEventListener("click", inject);
    $("simFault").addEventListener("keydown", (ev) => { if (ev.key === "Enter") inject(); });
    $("simPos").textContent = `step ${S.pos}${S.end ? " (the end)" : ""} at ${time(S.now)}: ${S.last || "the start"}`;
    if (S.error) {
      $("simError").textContent = S.error;
      history.replaceState(null, "", simURL(S, {})); // the address without the refused fault
    }
    $("simInjected").textContent = S.injected.map((j) => `injected at step ${j.pos}: ${j.fault}`).join("\n");
    const tb = $("simStates");
    tb.innerHTML = "";
    for (const n of S.states || []) {
      const tr = document.createElement("tr");
      tr.className = n.status === "crashed" || n.status === "absent" ? "down" : n.status || "";
      const a = document.createElement("td"), b = document.createElement("td");
      a.textContent = nodeName(n.id) + (n.status && n.status !== "up" ? " " + n.status : "");
      b.textContent = n.state == null ? "" : Object.entries(n.state).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ");
      tr.appendChild(a); tr.appendChild(b); tb.appendChild(tr);
    }
  }

  // For tests and the console: what the page shows.
  window.ordoViewer = {
    state: () => ({
      events: E.length, lanes: laneIndex().count, drawn: view.drawnEvents, selected: view.selected >= 0 ? E[view.selected].id : -1,
      second: view.second >= 0 ? E[view.second].id : -1, past: view.past ? view.past.size : 0, future: view.future ? view.future.size : 0,
      finding: view.finding ? [...view.finding].map((i) => E[i].id).sort((a, b) => a - b) : [],
      chain: view.chain ? view.chain.map((i) => E[i].id) : [], scrollX: view.scrollX, zoom: view.zoom,
      relation: ($("relation-verdict") || {}).textContent || "",
    }),
    select: (id, second) => select(indexOfID.get(id), second),
    sim: () => M.sim || null,
    // The first event of kind (and name, if given), or -1.
    find: (kind, name) => { const e = E.find((e) => e.kind === kind && (!name || e.name === name)); return e ? e.id : -1; },
    window: (fromMs, toMs) => setWindow(fromMs, toMs),
    // Scroll so that event id sits at fraction f of the view's width.
    place: (id, f) => { scrollTo(xOf(indexOfID.get(id)) - f * box.clientWidth); draw(); },
    // The earliest and latest time (ns) among the events drawn now.
    drawnSpan: () => drawn.length ? [Math.min(...drawn.map((d) => E[d.i].t)), Math.max(...drawn.map((d) => E[d.i].t))] : null,
    zoom: (z) => { view.zoom = Math.max(0.02, Math.min(200, z)); resize(); draw(); },
    xOf: (id) => xOf(indexOfID.get(id)) - view.scrollX,
    // Where event id is drawn, in the window's CSS pixels (for a real
    // mouse click), or null when it is off screen or on a hidden lane.
    at: (id) => {
      const i = indexOfID.get(id), d = drawn.find((x) => x.i === i);
      if (!d) return null;
      const rc = canvas.getBoundingClientRect(), x = rc.left + d.x - view.scrollX, y = rc.top + d.y;
      return x >= rc.left && x <= rc.right && y >= 0 && y <= window.innerHeight ? { x, y } : null;
    },
  };
})();

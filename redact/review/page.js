// The review page: drop regions, draw missed ones, approve files, export overrides and a sign-off.
// Boxes are [x, y, w, h] in the output's pixels (top-left origin), as in the manifest.
"use strict";
(() => {
  const D = JSON.parse(document.getElementById("review-data").textContent);
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const S = {file: 0, frame: 0, sel: null, label: "face", rangeMode: false, range: null,
             edits: [], approved: {}, undo: [], drag: null};
  const posOf = {};
  D.files.forEach((f, p) => { posOf[f.root + "/" + f.input] = p; });
  for (const raw of (D.prior ? D.prior.edits : [])) {
    S.edits.push({kind: "prior", file: posOf[(raw.root || 0) + "/" + raw.file] ?? -1, raw});
  }
  if (D.prior) $("reviewer").value = D.prior.reviewer;

  function el(tag, attrs, ...kids) {
    const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v);
    }
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  }
  const cur = () => D.files[S.file];
  const frm = () => cur().frames[S.frame];
  const isVideo = () => cur().kind === "video";
  const reviewer = () => $("reviewer").value.trim();
  const reason = (fallback) => $("reason").value.trim() || fallback;
  const reviewable = (f) => f.status === "ok" && f.frames.some((fr) => fr.src);
  function put(id, ...kids) { $(id).replaceChildren(...kids.filter((k) => k !== null && k !== undefined)); }
  function say(text, bad) { $("msg").textContent = text; $("msg").className = bad ? "bad" : ""; }

  // --- edits and undo -------------------------------------------------------------------
  // The session is kept in the browser's local storage under the manifest's digest, so a
  // closed tab or a reload loses nothing: boxes, approvals and the name, never pictures.
  const KEY = "redact-review:" + D.manifest_sha256;
  let kept = false;
  function keep() {
    try {
      localStorage.setItem(KEY, JSON.stringify({edits: S.edits, approved: S.approved, reviewer: reviewer()}));
      kept = true;
    } catch (err) { kept = false; }
  }
  function restore() {
    let saved = null;
    try { saved = JSON.parse(localStorage.getItem(KEY) || "null"); } catch (err) { saved = null; }
    if (!saved) return;
    S.edits = saved.edits.filter((e) => e.file < D.files.length);
    S.approved = saved.approved;
    if (saved.reviewer) $("reviewer").value = saved.reviewer;
    say(`restored ${S.edits.length} edit(s) and ${Object.keys(S.approved).length} approval(s) from this browser`);
  }
  function act(apply, revert) { apply(); S.undo.push(() => { revert(); keep(); }); keep(); render(); }
  function addEdit(e) { act(() => S.edits.push(e), () => S.edits.splice(S.edits.indexOf(e), 1)); }
  function discard(e) {
    const i = S.edits.indexOf(e);
    act(() => S.edits.splice(i, 1), () => S.edits.splice(i, 0, e));
  }
  function undo() {
    const revert = S.undo.pop();
    if (!revert) { say("nothing to undo"); return; }
    revert(); render(); say("undone");
  }
  const mine = (p) => S.edits.filter((e) => e.file === p);
  function dropOf(p, f, k, region) {
    return S.edits.find((e) => e.file === p && ((e.kind === "drop" && e.frame === f && e.k === k) ||
      (e.kind === "dropTrack" && region.track !== undefined && e.track === region.track)));
  }
  const lerp = (a, b, t) => a.map((v, i) => Math.round(v + (b[i] - v) * t));
  function boxesAt(p, f) {  // added boxes shown on frame f: [box, label, class]
    const out = [];
    for (const e of mine(p)) {
      if (e.kind === "add" && e.frame === f) out.push([e.box, e.label, "added"]);
      if (e.kind === "range" && e.a.f <= f && f <= e.b.f) {
        out.push([lerp(e.a.box, e.b.box, (f - e.a.f) / Math.max(1, e.b.f - e.a.f)), e.label, "added range"]);
      }
      if (e.kind === "prior" && e.raw.op === "add") {
        const [lo, hi] = e.raw.frames || [0, Infinity];
        if (lo <= f && f <= hi) out.push([e.raw.box, e.raw.label, "added range"]);
      }
    }
    if (S.range && S.range.file === p && S.range.f === f) out.push([S.range.box, S.range.label, "added pending"]);
    return out;
  }

  function clickRegion(k) {
    const p = S.file, fr = frm(), r = fr.regions[k];
    S.sel = k;
    if (r.source === "manual") { say("added by a reviewer earlier: discard that edit in the edit list", true); render(); return; }
    const d = dropOf(p, fr.f, k, r);
    if (d && d.kind === "dropTrack") { say(`track #${r.track} is dropped; discard that edit to keep it`); render(); return; }
    if (d) { discard(d); say(`region ${k} kept`); return; }
    addEdit({kind: "drop", file: p, frame: fr.f, k, box: r.box, label: r.label, track: r.track,
             reason: reason("false positive")});
    say(`region ${k} dropped`);
  }
  function dropTrack() {
    const fr = frm(), r = S.sel === null ? null : fr.regions[S.sel];
    if (!r || r.track === undefined) { say("select a region that belongs to a track first (Tab)", true); return; }
    if (mine(S.file).some((e) => e.kind === "dropTrack" && e.track === r.track)) { say(`track #${r.track} already dropped`); return; }
    addEdit({kind: "dropTrack", file: S.file, track: r.track, label: r.label, reason: reason("false positive track")});
    say(`track #${r.track} dropped`);
  }
  function newBox(box) {
    const p = S.file, f = frm().f, label = S.label;
    if (isVideo() && S.rangeMode) {
      if (!S.range || S.range.file !== p) {
        const prev = S.range;
        act(() => { S.range = {file: p, f, box, label}; }, () => { S.range = prev; });
        say(`range starts at frame ${f}; go to its last frame and draw the box there (Enter: the same box)`);
        return;
      }
      endRange(box);
      return;
    }
    addEdit({kind: "add", file: p, frame: f, box, label, reason: reason(`missed ${label}`)});
    say(`${label} box added` + (isVideo() ? ` on frame ${f} only (R: a box over a frame range)` : ""));
  }
  function endRange(box) {
    const st = S.range, f = frm().f;
    if (!st || st.file !== S.file) { say("no range started here: press R, then draw on the first frame", true); return; }
    if (f === st.f) { say("go to another frame to end the range", true); return; }
    const here = {f, box: box || st.box};
    const [a, b] = f > st.f ? [st, here] : [here, st];
    const e = {kind: "range", file: S.file, label: st.label, a: {f: a.f, box: a.box}, b: {f: b.f, box: b.box},
               reason: reason(`missed ${st.label}`)};
    act(() => { S.range = null; S.edits.push(e); }, () => { S.edits.splice(S.edits.indexOf(e), 1); S.range = st; });
    say(`${e.label} box over frames ${e.a.f}-${e.b.f}`);
  }

  function approve() {
    const p = S.file, f = cur(), prev = S.approved[p];
    if (!reviewable(f)) { say("nothing to approve: this file has no redacted output to look at", true); return; }
    if (!reviewer()) { say("type your name in Reviewer first", true); $("reviewer").focus(); return; }
    const next = prev ? undefined : {reviewer: reviewer(), time: now()};
    act(() => { if (next) S.approved[p] = next; else delete S.approved[p]; },
        () => { if (prev) S.approved[p] = prev; else delete S.approved[p]; });
    say(next ? `${f.input} approved` : `approval of ${f.input} withdrawn`);
    if (next) {
      const todo = D.files.findIndex((g, q) => q > p && reviewable(g) && !S.approved[q]);
      if (todo >= 0) go(todo, 0);
    }
  }
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

  // --- export -----------------------------------------------------------------------------
  function exported() {
    const out = [];
    for (const e of S.edits) {
      if (e.kind === "prior") { out.push(e.raw); continue; }
      const f = D.files[e.file], video = f.kind === "video", base = {file: f.input, root: f.root};
      if (e.kind === "drop") {
        // A video frame's list can hold predicted boxes that left the picture (not in the
        // manifest's list), so its regions are named by box; a still's by index.
        const pick = D.remove_by === "index" && !video ? {index: e.k} : {box: e.box};
        out.push({op: "remove", ...base, ...(video ? {frame: e.frame} : {}), ...pick, reason: e.reason});
      } else if (e.kind === "dropTrack") {
        out.push({op: "remove_track", ...base, track: e.track, reason: e.reason});
      } else if (e.kind === "add") {
        out.push({op: "add", ...base, box: e.box, label: e.label, ...(video ? {frames: [e.frame, e.frame]} : {}),
                  reason: e.reason});
      } else if (e.kind === "range") {
        let run = null;
        for (let g = e.a.f; g <= e.b.f; g++) {
          const box = lerp(e.a.box, e.b.box, (g - e.a.f) / (e.b.f - e.a.f));
          if (run && run.box.join() === box.join()) { run.frames[1] = g; continue; }
          run = {op: "add", ...base, box, label: e.label, frames: [g, g], reason: e.reason};
          out.push(run);
        }
      }
    }
    return out;
  }
  function exportAll() {
    const who = reviewer();
    if (!who) { say("type your name in Reviewer before exporting", true); $("reviewer").focus(); return; }
    const edits = exported();
    const ovText = JSON.stringify({schema: "redact-overrides/1", reviewer: who, edits}, null, 2) + "\n";
    const ovBytes = new TextEncoder().encode(ovText);
    const files = D.files.map((f, p) => ({file: f.input, root: f.root, approved: Boolean(S.approved[p]),
      reviewer: S.approved[p] ? S.approved[p].reviewer : null, time: S.approved[p] ? S.approved[p].time : null}));
    const signoff = {schema: "redact-signoff/1", reviewer: who, time: now(), manifest: D.manifest,
      manifest_sha256: D.manifest_sha256, overrides_sha256: sha256hex(ovBytes), files, edits};
    const soText = JSON.stringify(signoff, null, 2) + "\n";
    $("out-overrides").value = ovText;
    $("out-signoff").value = soText;
    $("export").hidden = false;
    for (const [id, bytes] of [["dl-overrides", ovBytes], ["dl-signoff", new TextEncoder().encode(soText)]]) {
      const a = $(id);
      if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
      a.href = URL.createObjectURL(new Blob([bytes], {type: "application/json"}));
      a.click();
    }
    const n = files.filter((f) => f.approved).length;
    say(`exported ${edits.length} edit(s) and the sign-off (${n} of ${files.length} files approved)`);
  }
  // --- navigation -----------------------------------------------------------------------
  function go(p, fi) {
    S.file = Math.max(0, Math.min(D.files.length - 1, p));
    S.frame = Math.max(0, Math.min(Math.max(0, cur().frames.length - 1), fi));
    S.sel = null;
    render();
  }
  const suspects = [];
  D.files.forEach((f, p) => {
    if (f.status === "ok" && !Object.values(f.counts).some((v) => v > 0)) suspects.push([p, 0, null]);
    f.frames.forEach((fr, fi) => fr.regions.forEach((r, k) => { if (r.low) suspects.push([p, fi, k]); }));
  });
  function nextSuspect() {
    if (!suspects.length) { say("no suspects: no file without detections, no low-confidence region"); return; }
    const here = [S.file, S.frame, S.sel ?? -1];
    const after = (s) => s[0] > here[0] || (s[0] === here[0] && (s[1] > here[1] || (s[1] === here[1] && (s[2] ?? -1) > here[2])));
    const s = suspects.find(after) || suspects[0];
    go(s[0], s[1]);
    S.sel = s[2];
    render();
    say(s[2] === null ? `${cur().input}: no detections; look for missed faces, plates, occupants`
      : `${cur().input}: region ${s[2]} has a low score (${frm().regions[s[2]].score})`);
  }

  // --- drawing ----------------------------------------------------------------------------
  function toPic(ev) {
    const r = $("pic").getBoundingClientRect(), f = cur();
    const x = Math.min(Math.max(ev.clientX - r.left, 0), r.width), y = Math.min(Math.max(ev.clientY - r.top, 0), r.height);
    return [x * f.width / r.width, y * f.height / r.height];
  }
  $("overlay").addEventListener("mousedown", (ev) => {
    if (ev.button !== 0) return;
    const hit = ev.target.closest("[data-k]");
    S.drag = {x: ev.clientX, y: ev.clientY, p0: toPic(ev), k: hit ? Number(hit.dataset.k) : null, rubber: null};
    ev.preventDefault();
  });
  window.addEventListener("mousemove", (ev) => {
    const d = S.drag;
    if (!d || Math.hypot(ev.clientX - d.x, ev.clientY - d.y) < 4) return;
    const b = span(d.p0, toPic(ev));
    if (!d.rubber) { d.rubber = el("svg:rect", {class: "rubber"}); $("overlay").append(d.rubber); }
    [["x", b[0]], ["y", b[1]], ["width", b[2]], ["height", b[3]]].forEach(([k, v]) => d.rubber.setAttribute(k, v));
  });
  window.addEventListener("mouseup", (ev) => {
    const d = S.drag;
    if (!d) return;
    S.drag = null;
    if (d.rubber) d.rubber.remove();
    if (Math.hypot(ev.clientX - d.x, ev.clientY - d.y) < 4) {
      if (d.k !== null) clickRegion(d.k); else { S.sel = null; render(); }
      return;
    }
    const b = span(d.p0, toPic(ev));
    if (b[2] >= 2 && b[3] >= 2) newBox(b);
  });
  function span(a, b) {
    const x = Math.floor(Math.min(a[0], b[0])), y = Math.floor(Math.min(a[1], b[1]));
    return [x, y, Math.ceil(Math.max(a[0], b[0])) - x, Math.ceil(Math.max(a[1], b[1])) - y];
  }

  // --- rendering --------------------------------------------------------------------------
  function render() {
    const f = cur(), p = S.file;
    put("files", ...D.files.map((g, q) => {
      const n = mine(q).length, low = g.frames.reduce((s, fr) => s + fr.regions.filter((r) => r.low).length, 0);
      const none = g.status === "ok" && !Object.values(g.counts).some((v) => v > 0);
      return el("button", {type: "button", class: q === p ? "current" : null, "data-p": q, onclick: () => go(q, 0)},
        el("span", {class: "name", text: g.input}), el("br"),
        g.status !== "ok" ? el("span", {class: "badge bad", text: g.status}) : null,
        none ? el("span", {class: "badge warn", text: "no detections"}) : null,
        low ? el("span", {class: "badge warn", text: `${low} low`}) : null,
        n ? el("span", {class: "badge edit", text: `${n} edit${n > 1 ? "s" : ""}`}) : null,
        S.approved[q] ? el("span", {class: "badge ok", text: "✓ approved"}) : null);
    }));
    const c = f.counts, ap = S.approved[p];
    put("filehead", el("h2", {text: f.input}), el("div", {class: "meta",
      text: `${f.kind} · ${f.status} · ${f.width}x${f.height} · faces ${c.face || 0} · plates ${c.plate || 0} · ` +
            `occupants ${c.occupant || 0}` + (f.kind === "video" ? ` · ${f.frameCount} frames` : "")}),
      ap ? el("div", {class: "badge ok", text: `approved by ${ap.reviewer} at ${ap.time}`}) : null,
      f.error ? el("div", {class: "note bad", text: f.error}) : null,
      f.withheld ? el("div", {class: "note bad", text: f.withheld}) : null,
      ...f.warnings.map((w) => el("div", {class: "note", text: w})));
    const fr = f.frames[S.frame];
    $("stage-wrap").hidden = !fr || !fr.src;
    if (fr && fr.src) drawStage(f, fr, p);
    put("orig", ...(fr && fr.orig ? [el("div", {class: "bad", text: "UNREDACTED ORIGINAL (internal review only)"}),
      el("img", {src: fr.orig, alt: "unredacted original"})] : []));
    drawFrames(f);
    drawPanels(f, fr, p);
    $("timeline").innerHTML = f.timeline;  // built and escaped by the page builder
    const ok = D.files.filter(reviewable).length, done = Object.keys(S.approved).length;
    $("progress").textContent = `file ${p + 1}/${D.files.length} · approved ${done}/${ok} · edits ${S.edits.length}`;
    document.querySelectorAll("#labels button").forEach((b) => b.classList.toggle("on", b.dataset.label === S.label));
    $("range-btn").classList.toggle("on", S.rangeMode);
    $("approve-btn").classList.toggle("on", Boolean(ap));
  }
  function drawStage(f, fr, p) {
    const pic = $("pic");
    if (pic.getAttribute("src") !== fr.src) pic.src = fr.src;
    const fit = Math.min($("stage-wrap").clientWidth / f.width, Math.max(240, window.innerHeight - 240) / f.height);
    pic.style.width = `${Math.floor(f.width * fit)}px`;
    pic.style.height = `${Math.floor(f.height * fit)}px`;
    const ov = $("overlay"), size = 14 / fit;  // 14 screen pixels, in picture pixels
    ov.setAttribute("viewBox", `0 0 ${f.width} ${f.height}`);
    ov.setAttribute("preserveAspectRatio", "none");
    const boxRect = (b) => ({x: b[0], y: b[1], width: b[2], height: b[3]});
    const order = fr.regions.map((r, k) => k).sort((i, j) =>  // large under small, so each stays clickable
      fr.regions[j].box[2] * fr.regions[j].box[3] - fr.regions[i].box[2] * fr.regions[i].box[3] || i - j);
    ov.replaceChildren(...order.map((k) => {
      const r = fr.regions[k];
      const cls = ["region", r.source === "manual" ? "manual" : r.label, r.low ? "low" : "",
                   dropOf(p, fr.f, k, r) ? "dropped" : "", S.sel === k ? "sel" : ""].join(" ");
      return el("svg:g", {class: cls, "data-k": k}, el("svg:rect", boxRect(r.box)),
        el("svg:text", {x: r.box[0] + 2, y: Math.max(size, r.box[1] - 3), "font-size": size, text: String(k)}));
    }), ...boxesAt(p, fr.f).map(([b, label, cls]) => el("svg:g", {class: cls}, el("svg:rect", boxRect(b)),
      el("svg:text", {x: b[0] + 2, y: b[1] + b[3] - 3, "font-size": size, text: "+" + label}))));
  }
  function drawFrames(f) {  // the slider is made once and updated, so dragging it is not interrupted
    $("frames").hidden = f.kind !== "video" || !f.frames.length;
    if ($("frames").hidden) return;
    if (!$("scrub")) {
      put("frames", el("div", {id: "frame-meta", class: "meta"}), el("input", {type: "range", min: 0, id: "scrub",
        "aria-label": "sampled frames", oninput: (ev) => go(S.file, Number(ev.target.value))}),
      el("div", {id: "strip", class: "strip"}));
    }
    const fr = f.frames[S.frame];
    $("scrub").max = f.frames.length - 1;
    $("scrub").value = S.frame;
    $("frame-meta").textContent = `frame ${fr.f} of 0-${f.frameCount - 1} (${S.frame + 1}/${f.frames.length} shown)` +
      (fr.why.length ? ` · ${fr.why.join(", ")}` : "") +
      (S.range && S.range.file === S.file ? ` · range started at frame ${S.range.f}` : "");
    put("strip", ...f.frames.map((g, fi) => el("button", {type: "button", "data-fi": fi,
      class: [fi === S.frame ? "current" : "", g.why.some((w) => w !== "sample") ? "mark" : ""].join(" "),
      title: g.why.join(", "), text: String(g.f), onclick: () => go(S.file, fi)})));
  }
  function drawPanels(f, fr, p) {
    const rows = fr ? fr.regions.map((r, k) => {
      const d = dropOf(p, fr.f, k, r);
      return el("tr", {class: [d ? "dropped" : "", S.sel === k ? "sel" : ""].join(" ")},
        el("td", {text: k}), el("td", {text: r.label}), el("td", {text: r.score === null ? "manual" : r.score}),
        el("td", {text: JSON.stringify(r.box)}), el("td", {text: r.track === undefined ? "" : "#" + r.track}),
        el("td", {}, r.source === "manual" ? null : el("button", {type: "button", text: d ? "keep" : "drop",
          onclick: () => clickRegion(k)}),
        r.track !== undefined && !d ? el("button", {type: "button", text: "drop track",
          onclick: () => { S.sel = k; dropTrack(); }}) : null));
    }) : [];
    put("regions", el("h3", {text: fr && f.kind === "video" ? `Regions on frame ${fr.f}` : "Regions"}),
      rows.length ? el("table", {}, el("tr", {}, ...["#", "label", "score", "box [x,y,w,h]", "track", ""]
        .map((h) => el("th", {text: h}))), ...rows) : el("p", {class: "meta", text: "none"}));
    const items = mine(p).map((e) => el("li", {}, describe(e) + " ", el("button", {type: "button", text: "discard",
      onclick: () => discard(e)})));
    put("edits", el("h3", {text: "Edits to this file"}),
      items.length ? el("ul", {}, ...items) : el("p", {class: "meta", text: "none"}));
  }
  function describe(e) {
    if (e.kind === "prior") return `earlier: ${e.raw.op} ${e.raw.label || ""} ${JSON.stringify(e.raw.box || (e.raw.track ?? ""))}`;
    if (e.kind === "drop") return `drop region ${e.k} (${e.label})` + (isVideo() ? ` on frame ${e.frame}` : "");
    if (e.kind === "dropTrack") return `drop track #${e.track} (${e.label})`;
    if (e.kind === "add") return `add ${e.label} ${JSON.stringify(e.box)}` + (isVideo() ? ` on frame ${e.frame}` : "");
    return `add ${e.label} frames ${e.a.f}-${e.b.f}, ${JSON.stringify(e.a.box)} to ${JSON.stringify(e.b.box)}`;
  }

  // --- keys and buttons -------------------------------------------------------------------
  function setLabel(l) { S.label = l; render(); say(`new boxes: ${l}`); }
  function toggleRange() {
    if (!isVideo()) { say("ranges are for video", true); return; }
    S.rangeMode = !S.rangeMode; S.range = S.rangeMode ? S.range : null; render();
    say(S.rangeMode ? "range mode: draw the box on the range's first frame" : "range mode off");
  }
  function cycle(step) {
    const n = frm() ? frm().regions.length : 0;
    if (!n) return;
    S.sel = S.sel === null ? (step > 0 ? 0 : n - 1) : (S.sel + step + n) % n; render();
  }
  const keys = {
    j: () => go(S.file + 1, 0), k: () => go(S.file - 1, 0), ArrowDown: () => go(S.file + 1, 0),
    ArrowUp: () => go(S.file - 1, 0), n: nextSuspect, ArrowRight: () => go(S.file, S.frame + 1),
    ArrowLeft: () => go(S.file, S.frame - 1), a: approve, z: undo, u: undo, e: exportAll,
    1: () => setLabel("face"), 2: () => setLabel("plate"), 3: () => setLabel("occupant"), r: toggleRange,
    x: () => (S.sel === null ? say("select a region first (click or Tab)", true) : clickRegion(S.sel)),
    Delete: () => keys.x(), t: dropTrack, Tab: () => cycle(1), Enter: () => endRange(null),
    "?": () => { $("help").hidden = !$("help").hidden; },
    Escape: () => { $("help").hidden = true; if (S.range) { S.range = null; render(); say("range cancelled"); } },
  };
  document.addEventListener("keydown", (ev) => {
    if (ev.target.matches("input:not([type=range]), textarea")) { if (ev.key === "Escape") ev.target.blur(); return; }
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "z") { ev.preventDefault(); undo(); return; }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const fn = keys[ev.key.length === 1 ? ev.key.toLowerCase() : ev.key];
    if (ev.key === "Tab" && ev.shiftKey) { ev.preventDefault(); cycle(-1); return; }
    if (fn) { ev.preventDefault(); fn(); }
  });
  document.querySelectorAll("#labels button").forEach((b) => b.addEventListener("click", () => setLabel(b.dataset.label)));
  $("range-btn").addEventListener("click", toggleRange);
  $("undo-btn").addEventListener("click", undo);
  $("approve-btn").addEventListener("click", approve);
  $("export-btn").addEventListener("click", exportAll);
  $("help-btn").addEventListener("click", () => { $("help").hidden = !$("help").hidden; });
  window.addEventListener("resize", () => render());
  window.addEventListener("beforeunload", (ev) => { if (S.undo.length && !kept) ev.preventDefault(); });
  $("reviewer").addEventListener("change", keep);
  document.querySelectorAll("#report a[href^='#f']").forEach((a) => a.addEventListener("click", (ev) => {
    const p = D.files.findIndex((f) => f.i === Number(a.getAttribute("href").slice(2)));
    if (p >= 0) { ev.preventDefault(); go(p, 0); window.scrollTo(0, 0); }
  }));
  restore();
  if (D.files.length) go(0, 0); else say("this manifest lists no files to review");
  document.body.dataset.ready = "1";
})();

// respd console: one server-sent-events stream (/events), a JSON snapshot a second.
// Tables are rebuilt from each snapshot; charts are SVG polylines drawn by hand.
"use strict";

let previous = null;  // the last snapshot, for per-second rates

function esc(text) {
  return String(text).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
}

function cells(values, attrs) {
  return "<tr" + (attrs || "") + ">" + values.map(v => "<td>" + v + "</td>").join("") + "</tr>";
}

function rate(now, before, dt) {
  return before === undefined || dt <= 0 ? 0 : Math.max(now - before, 0) / dt;
}

function human(bytes) {
  const units = ["B", "K", "M", "G"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
  return bytes.toFixed(i ? 1 : 0) + units[i];
}

// A sparkline of values into an <svg>: scaled to its own maximum.
function spark(id, values, label) {
  const svg = document.getElementById(id), w = +svg.getAttribute("width"), h = +svg.getAttribute("height");
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const points = values.map((v, i) => (i * step).toFixed(1) + "," + (h - 2 - (v / max) * (h - 4)).toFixed(1));
  svg.innerHTML = '<polyline fill="none" stroke="#2a6fdb" stroke-width="1.5" points="' + points.join(" ") + '"/>';
  document.getElementById("v-" + id.slice(2)).textContent = label;
}

function charts(history) {
  const rates = key => history.slice(1).map((p, i) => rate(p[key], history[i][key], p.t - history[i].t));
  const last = a => a.length ? a[a.length - 1] : 0;
  const commands = rates("commands"), published = rates("published"), dropped = rates("dropped");
  spark("c-commands", commands, last(commands).toFixed(0));
  spark("c-memory", history.map(p => p.memory), human(last(history.map(p => p.memory))));
  spark("c-clients", history.map(p => p.clients), last(history.map(p => p.clients)));
  spark("c-published", published, last(published).toFixed(1));
  spark("c-dropped", dropped, last(dropped).toFixed(1));
}

function render(snap) {
  const dt = previous ? snap.time - previous.time : 0;
  const before = {};
  if (previous) previous.channels.forEach(c => { before[c.name] = c; });
  document.getElementById("status").textContent =
    "— " + snap.clients + " clients, " + snap.blocked_clients + " blocked, " + human(snap.memory);
  charts(snap.history);

  document.querySelector("#channels tbody").innerHTML = snap.channels.map(c => {
    const b = before[c.name] || {};
    return cells([esc(c.name), c.subscribers, c.published, rate(c.published, b.published, dt).toFixed(1),
                  '<span class="' + (c.dropped ? "drop" : "") + '">' + c.dropped + "</span>",
                  rate(c.dropped, b.dropped, dt).toFixed(1)], ' data-channel="' + esc(c.name) + '"');
  }).join("");

  const rows = [];
  snap.streams.forEach(s => {
    rows.push(cells(["<b>" + esc(s.key) + "</b>", s.length, "", "", "", ""], ' data-stream="' + esc(s.key) + '"'));
    s.groups.forEach(g => {
      rows.push(cells([esc(g.name), "", g.lag === null ? "?" : g.lag, g.pending,
                       g.oldest_pending_seconds.toFixed(1), ""],
                      ' class="group" data-stream="' + esc(s.key) + '" data-group="' + esc(g.name) + '"'));
      g.consumers.forEach(c => rows.push(cells([esc(c.name), "", "", c.pending, "", c.idle_seconds.toFixed(1)],
                                               ' class="consumer"')));
    });
  });
  document.querySelector("#streams tbody").innerHTML = rows.join("");
  document.querySelectorAll("#streams tr.group td:first-child, #streams tr.consumer td:first-child")
    .forEach(td => td.classList.add("sub"));

  document.querySelector("#queues tbody").innerHTML = snap.queues.map(q =>
    cells([esc(q.key), q.type, q.depth, q.blocked], ' data-queue="' + esc(q.key) + '"')).join("");

  document.querySelector("#slowlog tbody").innerHTML = snap.slowlog.map(e =>
    cells([esc(e.args.join(" ")), e.usec, esc(e.addr), new Date(e.time * 1000).toLocaleTimeString()])).join("");
  previous = snap;
  document.body.dataset.updates = String(+(document.body.dataset.updates || 0) + 1);
}

const events = new EventSource("events");
events.onmessage = message => render(JSON.parse(message.data));
events.onerror = () => { document.getElementById("status").textContent = "— disconnected, retrying…"; };

// report.html's script, inlined by harness/report/html.py: renders a cell's evidence on click,
// applies the filters, and records any script error on <html data-js-errors> (the browser test reads it).
(function () {
  "use strict";
  var root = document.documentElement;
  var errors = [];
  function fail(message) { errors.push(String(message)); root.setAttribute("data-js-errors", errors.join(" | ")); }
  window.addEventListener("error", function (e) { fail(e.message || e); });
  window.addEventListener("unhandledrejection", function (e) { fail(e.reason); });
  try {
    var data = JSON.parse(document.getElementById("cell-data").textContent);
    var grid = document.getElementById("grid");
    var panel = document.getElementById("details");
    function el(tag, text, cls) {
      var node = document.createElement(tag);
      if (text !== undefined && text !== null) node.textContent = String(text);
      if (cls) node.className = cls;
      return node;
    }
    function table(rows, head) {
      var t = el("table");
      if (head) { var hr = el("tr"); head.forEach(function (h) { hr.appendChild(el("th", h)); }); t.appendChild(hr); }
      rows.forEach(function (r) {
        var tr = el("tr");
        r.forEach(function (c, i) { var td = el("td", c); if (i === 1 && head && head[1] === "outcome") td.className = "o-" + c; tr.appendChild(td); });
        t.appendChild(tr);
      });
      return t;
    }
    function kv(obj) {
      return table(Object.keys(obj || {}).map(function (k) {
        var v = obj[k]; return [k, typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)];
      }));
    }
    function open(id) {
      var cell = data.cells[id];
      if (!cell) return;
      Array.prototype.forEach.call(grid.querySelectorAll("td.active"), function (td) { td.classList.remove("active"); });
      var td = grid.querySelector('td[data-id="' + id.replace(/"/g, '') + '"]');
      if (td) td.classList.add("active");
      panel.textContent = "";
      panel.appendChild(el("h2", cell.id));
      panel.appendChild(el("p", "status " + cell.status + ", expected " + cell.expected + " — " + cell.expected_reason));
      if (cell.unfinished) panel.appendChild(el("p", "unfinished: " + cell.unfinished));
      if (cell.message) panel.appendChild(el("pre", cell.message));
      if (cell.artifacts) panel.appendChild(el("p", "artifacts: " + cell.artifacts));
      var tests = cell.tests.map(function (t) { return [data.names[t[0]], t[1], t[2] || ""]; });
      var odd = tests.filter(function (t) { return t[1] !== "pass"; });
      var passed = tests.filter(function (t) { return t[1] === "pass"; });
      panel.appendChild(el("h3", "Contract tests: " + passed.length + " passed, " + odd.length + " other"));
      if (odd.length) panel.appendChild(table(odd, ["test", "outcome", "message"]));
      if (passed.length) {
        var more = el("details", null, "passed");
        more.appendChild(el("summary", passed.length + " passed tests"));
        more.appendChild(table(passed, ["test", "outcome", "message"]));
        panel.appendChild(more);
      }
      if (cell.resolver) { panel.appendChild(el("h3", "Resolver decision")); panel.appendChild(kv(cell.resolver)); }
      var known = Object.keys(cell.known || {});
      if (known.length) {
        panel.appendChild(el("h3", "Known regressions"));
        panel.appendChild(table(known.map(function (s) { return [s, cell.known[s]]; })));
      }
      panel.appendChild(el("h3", "Scenarios"));
      Object.keys(cell.scenarios).forEach(function (name) {
        var s = cell.scenarios[name];
        var box = el("details", null, "scenario");
        box.setAttribute("data-scenario", name);
        var title = name + (s.lane_s !== undefined ? " — lane run " + s.lane_s + " s" : "") +
                    (s.summary && s.summary.thread_status ? ", " + s.summary.thread_status : "");
        box.appendChild(el("summary", title));
        if (s.summary) { box.appendChild(el("h4", "Lane sign-off")); box.appendChild(kv(s.summary)); }
        if (s.rows) { box.appendChild(el("h4", "Transcript rows")); box.appendChild(table(s.rows, ["row", "content"])); }
        if (s.journal) { box.appendChild(el("h4", "Request journal")); box.appendChild(table(s.journal.map(function (j) { return [j]; }))); }
        if (s.stderr) { box.appendChild(el("h4", "stderr")); box.appendChild(el("pre", s.stderr.join("\n"))); }
        if (cell.status !== "pass" && cell.status !== "xfail") box.open = true;
        panel.appendChild(box);
      });
      panel.hidden = false;
      if (location.hash !== "#" + id) history.replaceState(null, "", "#" + id);
      root.setAttribute("data-open-cell", id);
    }
    grid.addEventListener("click", function (e) {
      var td = e.target.closest("td.cell");
      if (td) { open(td.getAttribute("data-id")); panel.scrollIntoView({behavior: "smooth"}); }
    });
    grid.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && e.target.matches("td.cell")) open(e.target.getAttribute("data-id"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("a[data-open]"), function (a) {
      a.addEventListener("click", function (e) { e.preventDefault(); open(a.getAttribute("data-open")); panel.scrollIntoView(); });
    });
    function chosen(name) {
      var set = {};
      Array.prototype.forEach.call(document.querySelectorAll('input[data-filter="' + name + '"]'), function (box) {
        if (box.checked) set[box.value] = true;
      });
      return set;
    }
    function apply() {
      var builds = chosen("build"), creds = chosen("credential"), pols = chosen("policy"), stats = chosen("status");
      Array.prototype.forEach.call(grid.querySelectorAll("tbody tr"), function (tr) {
        tr.classList.toggle("hidden", !builds[tr.getAttribute("data-version")]);
      });
      Array.prototype.forEach.call(grid.querySelectorAll("[data-credential]"), function (node) {
        node.classList.toggle("hidden", !creds[node.getAttribute("data-credential")] || !pols[node.getAttribute("data-policy")]);
      });
      Array.prototype.forEach.call(grid.querySelectorAll("td.cell"), function (td) {
        td.classList.toggle("dim", !stats[td.getAttribute("data-status")]);
      });
    }
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), function (box) {
      box.addEventListener("change", apply);
    });
    apply();
    var wanted = decodeURIComponent(location.hash.replace(/^#/, ""));
    if (wanted && data.cells[wanted]) open(wanted);
    root.setAttribute("data-ready", "yes");
  } catch (err) {
    fail(err && err.stack ? err.stack : err);
  }
})();

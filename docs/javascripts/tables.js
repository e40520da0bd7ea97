/* Sortable tables (tablesort, vendored), the catalog filter and the highlighted target row. Runs on every
   page load, including Material's instant navigation, through document$. No outside requests.
   Built for thousands of rows: each row's filter values are read once, a filter change only flips `hidden`
   on the rows whose visibility changes. */

/* After a sort, rows whose cell in the sorted column is unknown (data-la-unknown) go last, whatever the
   direction, when the column header asks for it (data-la-unknown-last). */
function laUnknownLast(table, sorter) {
  var header = table.tHead.rows[0].cells[sorter.col];
  if (!header || !header.hasAttribute("data-la-unknown-last")) return;
  var body = table.tBodies[0];
  var unknown = [];
  Array.prototype.forEach.call(body.rows, function (row) {
    var cell = row.cells[sorter.col];
    if (cell && cell.hasAttribute("data-la-unknown")) unknown.push(row);
  });
  var rest = document.createDocumentFragment();
  unknown.forEach(function (row) { rest.appendChild(row); });
  body.appendChild(rest);
}

/* A button in each sortable header, so that sorting works from the keyboard; tablesort (listening on the
   th) sets aria-sort on the header. Tables without JavaScript keep plain headers. */
function laSortButtons(table) {
  var row = table.tHead && table.tHead.rows[0];
  if (!row) return;
  Array.prototype.forEach.call(row.cells, function (th) {
    if (th.getAttribute("data-sort-method") === "none" || th.querySelector("button.la-sort")) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "la-sort";
    while (th.firstChild) button.appendChild(th.firstChild);
    th.appendChild(button);
  });
}

function laSortable(table) {
  if (!table.tHead || table.dataset.laSortable) return;
  table.dataset.laSortable = "yes";
  laSortButtons(table);
  var sorter = new Tablesort(table);
  table.addEventListener("afterSort", function () { laUnknownLast(table, sorter); });
}

/* A row's fit per base model, from data-fit="model:answer:basis …" (verified by the header or claimed by
   the file name); rows without it fall back to data-fits (the fitting models) and data-inspected. */
function laFitAnswers(row) {
  var answers = {};
  (row.dataset.fit || "").split(" ").forEach(function (token) {
    var parts = token.split(":");
    if (parts.length >= 2) answers[parts[0]] = parts[1];
  });
  (row.dataset.fits || "").split(" ").forEach(function (model) {
    if (model && !answers[model]) answers[model] = "fits";
  });
  return answers;
}

/* The answer for one model: fits, partial, no or unknown. */
function laFitAnswer(item, model) {
  return item.fit[model] || (item.inspected === "no" ? "unknown" : "no");
}

/* Does a row pass one filter? "fits" passes rows that fit or partly fit the chosen model, and rows whose fit
   is unknown (marked "fit unknown"). */
function laRowMatches(item, key, value) {
  if (!value) return true;
  if (key === "fits") return laFitAnswer(item, value) !== "no";
  return item.values[key] === value;
}

function laSelects(form) {
  return Array.prototype.slice.call(form.querySelectorAll("select[data-la-filter]"));
}

/* Which rows pass is decided for every row at once (plain JavaScript, fast); the page is then changed in
   document order, the first rows (those on screen at the top) before the next frame is painted and the rest
   in slices of LA_SLICE rows per frame, so that a filter over thousands of rows repaints at once. A newer
   change cancels the slices of an older one. */
var LA_SLICE = 250;

function laApplyFilters(form, items) {
  var chosen = laSelects(form).map(function (s) { return [s.dataset.laFilter, s.value]; })
    .filter(function (pair) { return pair[1]; });
  var fits = form.querySelector('select[data-la-filter="fits"]');
  var model = fits ? fits.value : "";
  var shown = 0;
  var wanted = new Array(items.length);
  for (var i = 0; i < items.length; i++) {
    var match = true;
    for (var j = 0; j < chosen.length && match; j++) match = laRowMatches(items[i], chosen[j][0], chosen[j][1]);
    wanted[i] = match;
    if (match) shown += 1;
  }
  form.querySelector(".la-filter-count").textContent = shown + " of " + items.length + " shown";
  var run = (form.laRun || 0) + 1;
  form.laRun = run;
  function slice(from) {
    if (form.laRun !== run) return;
    var to = Math.min(items.length, from + LA_SLICE);
    for (var k = from; k < to; k++) {
      var item = items[k];
      if (item.row.hidden === wanted[k]) item.row.hidden = !wanted[k];
      var mark = Boolean(model) && wanted[k] && laFitAnswer(item, model) === "unknown";
      if (item.marked !== mark) { item.row.classList.toggle("la-fit-unknown", mark); item.marked = mark; }
    }
    if (to < items.length) requestAnimationFrame(function () { slice(to); });
    else form.dispatchEvent(new CustomEvent("la-filtered"));
  }
  slice(0);
}

/* The filters live in the page address (?generation=2.2&fits=…): shareable, restored on load, and the
   back button returns to the previous choice. Unknown keys and values are ignored. */
function laReadAddress(form) {
  var params = new URLSearchParams(window.location.search);
  laSelects(form).forEach(function (select) {
    var value = params.get(select.dataset.laFilter) || "";
    var known = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    select.value = known ? value : "";
  });
}

function laAddress(form) {
  var params = new URLSearchParams(window.location.search);
  laSelects(form).forEach(function (select) {
    if (select.value) params.set(select.dataset.laFilter, select.value);
    else params.delete(select.dataset.laFilter);
  });
  var query = params.toString();
  return window.location.pathname + (query ? "?" + query : "");
}

var laActiveFilter = null;

function laFilterable(form) {
  var table = document.getElementById(form.dataset.laFilters);
  if (!table) return;
  var keys = laSelects(form).map(function (s) { return s.dataset.laFilter; });
  var items = Array.prototype.map.call(table.tBodies[0].rows, function (row) {
    var values = {};
    keys.forEach(function (key) { values[key] = row.dataset[key]; });
    return { row: row, values: values, inspected: row.dataset.inspected, fit: laFitAnswers(row), marked: false };
  });
  form.hidden = false;
  laReadAddress(form);
  form.addEventListener("change", function () {
    var address = laAddress(form);
    if (address !== window.location.pathname + window.location.search) {
      window.history.pushState(window.history.state, "", address);
    }
    laApplyFilters(form, items);
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  laActiveFilter = { form: form, items: items };
  laApplyFilters(form, items);
  if (window.performance && performance.mark) performance.mark("la-catalog-ready");  /* for the benchmark */
}

window.addEventListener("popstate", function () {
  var active = laActiveFilter;
  if (!active || !document.body.contains(active.form)) return;
  laReadAddress(active.form);
  laApplyFilters(active.form, active.items);
});

/* The id a #fragment names. A malformed %-escape (a truncated link such as #%E0%A4%A) makes
   decodeURIComponent throw URIError, which would stop this script at load and on every hash change: such a
   fragment is taken as it stands, and names no row. */
function laFragmentId(hash) {
  var raw = hash.slice(1);
  try {
    return decodeURIComponent(raw);
  } catch (error) {
    if (error instanceof URIError) return raw;
    throw error;
  }
}

/* The row named by the address's #fragment is highlighted (CSS :target misses it after Material's instant
   navigation, which changes the address without a real jump). */
function laMarkTarget() {
  document.querySelectorAll(".la-target").forEach(function (el) { el.classList.remove("la-target"); });
  var id = laFragmentId(window.location.hash);
  if (!id) return;
  var target = document.getElementById(id);
  if (target && target.tagName === "TR") target.classList.add("la-target");
}

window.addEventListener("hashchange", laMarkTarget);

document$.subscribe(function () {
  laActiveFilter = null;
  document.querySelectorAll("article table:not([class]), article table.la-catalog").forEach(laSortable);
  document.querySelectorAll("form[data-la-filters]").forEach(laFilterable);
  laMarkTarget();
});

/* The catalog table, at any size: filters, sorting, rows shown as the reader scrolls. No outside requests.

   The page holds its first rows as HTML; every row is in a JSON file the table names (data-la-rows, written by
   generator/site/catalog_page.py, preloaded by the page): [format, filters, models, rows], each row [id,
   [values of the filters], inspected, fit (a letter per model: f fits, p partial, n no, u unknown), sort keys,
   made for (a digit per model: 1 made for it)]; the rows' HTML is in a second file (data-la-html: [format,
   [html, in the same order]]). The filters are ready once the first is read; a row past the first ones is
   shown once the second is (until then the table keeps what it shows, and catches up when it arrives).
   Filters and sorting work on that data; the table holds the first rows that pass (LA_STEP more each time the
   reader nears its end), each parsed from its HTML the first time it is shown. So the filters are ready once
   the JSON is read, and a filter repaints a few hundred rows at most, whatever the catalog's size (5,000 rows
   as HTML took 3 s to parse and 200 ms to restyle; bench/bench_catalog_page.py). A reader without JavaScript
   gets the first rows and a list linking every other LoRA. The sort buttons and the highlighted #row come from
   tables.js (loaded after this file, called only once both are loaded). */

var LA_FORMAT = 1;  /* the rows' JSON this script reads (catalog_page.py writes it); another, e.g. a stale cache, is not read */
var LA_STEP = 50;  /* rows added at a time; at most a few hundred in the table */
var laCatalog = null;  /* the catalog of the page shown (Material's instant navigation replaces the page) */

var LA_FIT = { f: "fits", p: "partial", n: "no", u: "unknown" };

/* A row's fit per base model (verified or claimed), from its letters. */
function laFitAnswers(models, letters) {
  var answers = {};
  models.forEach(function (model, i) { answers[model] = LA_FIT[letters.charAt(i)]; });
  return answers;
}

/* The answer for one model: fits, partial, no or unknown. */
function laFitAnswer(item, model) {
  return item.fit[model] || (item.inspected === "no" ? "unknown" : "no");
}

/* Does an item pass one filter? The model filter ("for") holds "made:<model>", the LoRAs made for the model, or
   "loads:<model>", those that fit or partly fit it (a fit nothing tells does not pass): generator.catalog.fit's
   two definitions. */
function laRowMatches(item, key, value) {
  if (!value) return true;
  if (key === "for") {
    var model = value.slice(value.indexOf(":") + 1);
    if (value.indexOf("made:") === 0) return item.made.indexOf(model) >= 0;
    var answer = laFitAnswer(item, model);
    return answer === "fits" || answer === "partial";
  }
  return item.values[key] === value;
}

/* The models a row was made for, from its digits. */
function laMadeFor(models, digits) {
  return models.filter(function (model, i) { return (digits || "").charAt(i) === "1"; });
}

function laSelects(form) {
  return Array.prototype.slice.call(form.querySelectorAll("select[data-la-filter]"));
}

/* The items, from the page's JSON; the rows already in the table are kept, the others made when shown. */
function laItems(table, data) {
  var present = Object.create(null);  /* ids such as "constructor" are ids, not Object's own names */
  Array.prototype.forEach.call(table.tBodies[0].rows, function (row) { present[row.id] = row; });
  var filters = data[1], models = data[2];
  return data[3].map(function (r) {
    var values = {};
    filters.forEach(function (name, i) { values[name] = r[1][i]; });
    return { id: r[0], html: null, values: values, inspected: r[2], fit: laFitAnswers(models, r[3]), keys: r[4],
             made: laMadeFor(models, r[5]), row: present[r[0]] || null, pass: true };
  });
}

/* Make the rows of items that have none, from their HTML, in one parse; false while that HTML is not read yet. */
function laMakeRows(items) {
  var missing = items.filter(function (item) { return !item.row; });
  if (!missing.length) return true;
  if (missing.some(function (item) { return item.html === null; })) return false;
  var body = document.createElement("tbody");
  body.innerHTML = missing.map(function (item) { return item.html; }).join("");
  missing.forEach(function (item, i) { item.row = body.rows[i]; });
  return true;
}

/* The table shows the first `limit` items that pass, in the current order; rows whose fit for the chosen model
   nothing tells are marked. */
function laShow(state) {
  var shown = [];
  var passing = 0;
  state.order.forEach(function (item) {
    if (!item.pass) return;
    passing += 1;
    if (shown.length < state.limit) shown.push(item);
  });
  state.waiting = !laMakeRows(shown);  /* laRowsHtml shows them when their HTML arrives */
  if (state.waiting) return;
  var chosen = state.fits ? state.fits.value : "";
  var model = chosen.slice(chosen.indexOf(":") + 1);
  shown.forEach(function (item) {
    item.row.hidden = false;
    item.row.classList.toggle("la-fit-unknown", Boolean(model) && laFitAnswer(item, model) === "unknown");
  });
  state.body.replaceChildren.apply(state.body, shown.map(function (item) { return item.row; }));
  var count = passing || !chosen ? passing + " of " + state.items.length + " shown" : laEmpty(state);
  if (state.count.textContent !== count) state.count.textContent = count;  /* read out once, not on each growth */
  var rest = passing - shown.length;
  state.more.hidden = rest <= 0;
  state.moreButton.textContent = "Show " + Math.min(LA_STEP, rest) + " more (" + rest + " not shown yet)";
}

function laApplyFilters(state) {
  var chosen = laSelects(state.form).map(function (s) { return [s.dataset.laFilter, s.value]; })
    .filter(function (pair) { return pair[1]; });
  state.items.forEach(function (item) {
    var match = true;
    for (var j = 0; j < chosen.length && match; j++) match = laRowMatches(item, chosen[j][0], chosen[j][1]);
    item.pass = match;
  });
  state.limit = LA_STEP;
  laShow(state);
  state.form.dispatchEvent(new CustomEvent("la-filtered"));
}

/* Sort by a column: numbers as numbers, text as lower-case text; unknown values (null) last whichever the
   direction; equal keys keep the catalog's order. The header says the direction (aria-sort). */
function laSortBy(state, th) {
  var column = th.cellIndex;
  var ascending = th.getAttribute("aria-sort") !== "ascending";
  var numeric = th.getAttribute("data-sort-method") === "number";
  Array.prototype.forEach.call(th.parentNode.cells, function (cell) { cell.removeAttribute("aria-sort"); });
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  var direction = ascending ? 1 : -1;
  var key = function (item) {
    var value = item.keys[column];
    return value === null || numeric ? value : String(value).toLowerCase();
  };
  state.order = state.items.map(function (item, index) { return [key(item), index, item]; })
    .sort(function (a, b) {
      if (a[0] === null || b[0] === null) return (a[0] === null) - (b[0] === null) || a[1] - b[1];
      if (a[0] < b[0]) return -direction;
      if (a[0] > b[0]) return direction;
      return a[1] - b[1];
    })
    .map(function (entry) { return entry[2]; });
  laShow(state);
}

/* When nothing passes: the model choice's own sentence if it alone keeps no LoRA ("No LoRA in the catalog is
   made for Wan 2.1 T2V 1.3B; none loads on it."), else that the filters together keep none. */
function laEmpty(state) {
  var value = state.fits.value;
  var alone = state.items.some(function (item) { return laRowMatches(item, "for", value); });
  var option = state.fits.options[state.fits.selectedIndex];
  return alone ? "0 of " + state.items.length + " shown: no LoRA passes these filters together"
               : option.dataset.laEmpty;
}

/* The filters live in the page address (?generation=2.2&for=made:…): shareable, restored on load, and the back
   button returns to the previous choice. Unknown keys and values are ignored; an address of the former "fits"
   filter (?fits=<model>) is read as "loads on" that model. */
function laReadAddress(form) {
  var params = new URLSearchParams(window.location.search);
  if (params.get("fits") && !params.get("for")) params.set("for", "loads:" + params.get("fits"));
  laSelects(form).forEach(function (select) {
    var value = params.get(select.dataset.laFilter) || "";
    var known = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    select.value = known ? value : "";
  });
}

function laAddress(form) {
  var params = new URLSearchParams(window.location.search);
  params.delete("fits");
  laSelects(form).forEach(function (select) {
    if (select.value) params.set(select.dataset.laFilter, select.value);
    else params.delete(select.dataset.laFilter);
  });
  var query = params.toString();
  return window.location.pathname + (query ? "?" + query : "");
}

/* The row a #fragment names is shown (the table grows to it) when it passes the filters. */
function laShowTarget(state) {
  var id = typeof laFragmentId === "function" ? laFragmentId(window.location.hash) : "";
  if (!id) return;
  var position = 0;
  var found = state.order.some(function (item) {
    if (!item.pass) return false;
    position += 1;
    return item.id === id;
  });
  if (!found) return;
  if (position > state.limit) {
    state.limit = position + LA_STEP;
    laShow(state);
  }
  /* the browser's own jump happened before the rows were read (filters reorder them): go to the row now, or,
     while the table waits for the rows' HTML, once it has arrived (laRowsHtml) */
  var row = document.getElementById(id);
  state.target = state.waiting || !row;
  if (state.target) return;
  row.scrollIntoView();
  /* rows above it had estimated heights (content-visibility): once drawn, its place moved; go there again */
  requestAnimationFrame(function () { requestAnimationFrame(function () { row.scrollIntoView(); }); });
  if (typeof laMarkTarget === "function") laMarkTarget();
}

/* The "show more" line after the table: a button, and the table grows by itself as the reader nears its end. */
function laMoreLine(state) {
  var more = document.createElement("p");
  more.className = "la-more";
  var button = document.createElement("button");
  button.type = "button";
  button.className = "md-button";
  more.appendChild(button);
  state.table.closest(".la-table-wrap").after(more);
  state.more = more;
  state.moreButton = button;
  button.addEventListener("click", function () {
    var first = state.body.rows.length;
    state.limit += LA_STEP;
    laShow(state);
    /* the last press hides the button: keyboard focus goes to the first row it brought, not to the page's top */
    var link = more.hidden && state.body.rows[first] && state.body.rows[first].querySelector("a.la-lora-link");
    if (link) link.focus();
  });
  if (!("IntersectionObserver" in window)) return;
  var watch = new IntersectionObserver(function (entries) {
    if (entries.some(function (entry) { return entry.isIntersecting; }) && !more.hidden) {
      state.limit += LA_STEP;
      laShow(state);
      watch.unobserve(more);  /* observed anew: still near after growing (short rows), it grows again */
      watch.observe(more);
    }
  }, { rootMargin: "0px 0px 1200px 0px" });
  watch.observe(more);
}

/* If the rows cannot be read (a file opened from disk, a failed request), the list a reader without JavaScript
   gets is shown instead: the noscript element's HTML, which the browser kept as text. */
function laShowList(table) {
  var wrap = table.closest(".la-table-wrap");
  var list = wrap && wrap.nextElementSibling;
  if (!list || list.tagName !== "NOSCRIPT") return;
  var shown = document.createElement("div");
  shown.innerHTML = list.innerHTML;
  var said = shown.querySelector("p");  /* "Without JavaScript, …": here the script runs but the rows were not read */
  if (said) said.textContent = "The table's other rows could not be read; every other LoRA, each with its page:";
  list.after(shown);
}

/* One of the page's JSON files, read and checked: [LA_FORMAT, …]. */
function laJson(address) {
  return fetch(new URL(address, window.location.href))
    .then(function (response) {
      if (!response.ok) throw new Error(address + ": HTTP " + response.status);
      return response.json();
    })
    .then(function (data) {
      if (!Array.isArray(data) || data[0] !== LA_FORMAT) throw new Error(address + ": not format " + LA_FORMAT);
      return data;
    });
}

function laCatalogPage(form) {
  var table = document.getElementById(form.dataset.laFilters);
  if (!table || !table.dataset.laRows || !table.dataset.laHtml) return;
  var rows = laJson(table.dataset.laRows);  /* read first: the filters need only these */
  var html = laJson(table.dataset.laHtml);  /* asked for at once: both files come together */
  html.catch(function () {});  /* a failure is handled below, or not needed when the page has gone or failed */
  rows
    .then(function (data) {
      if (!document.body.contains(table)) return;
      var state = laCatalogRows(form, table, data);
      html.then(function (rows) { laRowsHtml(state, rows[1]); }, function () { laShowList(table); });
    }, function () { laShowList(table); });
}

/* The rows' HTML has arrived: every item gets its own, and a table waiting for some is shown. */
function laRowsHtml(state, rows) {
  if (rows.length !== state.items.length) { laShowList(state.table); return; }
  state.items.forEach(function (item, i) { item.html = rows[i]; });
  if (window.performance && performance.mark) performance.mark("la-catalog-html");  /* for the benchmark */
  if (!document.body.contains(state.table)) return;
  if (state.waiting) laShow(state);
  if (state.target) laShowTarget(state);
}

function laCatalogRows(form, table, data) {
  var items = laItems(table, data);
  var state = { form: form, table: table, body: table.tBodies[0], items: items, order: items, limit: LA_STEP,
                count: form.querySelector(".la-filter-count"), fits: form.querySelector('select[data-la-filter="for"]') };
  laMoreLine(state);
  if (typeof laSortButtons === "function") laSortButtons(table);
  table.tHead.addEventListener("click", function (event) {
    var button = event.target.closest("button.la-sort");
    if (button) laSortBy(state, button.closest("th"));
  });
  form.hidden = false;
  laReadAddress(form);
  form.addEventListener("change", function () {
    var address = laAddress(form);
    if (address !== window.location.pathname + window.location.search) {
      window.history.pushState(window.history.state, "", address);
    }
    laApplyFilters(state);
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  laCatalog = state;
  laApplyFilters(state);
  laShowTarget(state);
  if (window.performance && performance.mark) performance.mark("la-catalog-ready");  /* for the benchmark */
  return state;
}

window.addEventListener("popstate", function () {
  if (!laCatalog || !document.body.contains(laCatalog.form)) return;
  laReadAddress(laCatalog.form);
  laApplyFilters(laCatalog);
});

window.addEventListener("hashchange", function () {
  if (laCatalog && document.body.contains(laCatalog.table)) laShowTarget(laCatalog);
});

document$.subscribe(function () {
  laCatalog = null;
  document.querySelectorAll("form[data-la-filters]").forEach(laCatalogPage);
});

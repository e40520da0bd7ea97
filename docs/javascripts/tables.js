/* Sortable tables (tablesort, vendored), the sort buttons and the highlighted target row. Runs on every page
   load, including Material's instant navigation, through document$. No outside requests. The catalog's table
   is catalog.js's (filters, sorting and rows from the page's JSON); it uses laSortButtons and laFragmentId. */

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
  new Tablesort(table);
}

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
  document.querySelectorAll("article table:not([class])").forEach(laSortable);
  laMarkTarget();
});

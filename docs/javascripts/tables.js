/* Sortable tables (tablesort, vendored) and the catalog filter. Runs on every page load, including
   Material's instant navigation, through document$. No outside requests. */

/* After a sort, rows whose cell in the sorted column is unknown (data-la-unknown) go last, whatever the
   direction, when the column header asks for it (data-la-unknown-last). */
function laUnknownLast(table, sorter) {
  var header = table.tHead.rows[0].cells[sorter.col];
  if (!header || !header.hasAttribute("data-la-unknown-last")) return;
  var body = table.tBodies[0];
  Array.prototype.slice.call(body.rows).forEach(function (row) {
    var cell = row.cells[sorter.col];
    if (cell && cell.hasAttribute("data-la-unknown")) body.appendChild(row);
  });
}

function laSortable(table) {
  var sorter = new Tablesort(table);
  table.addEventListener("afterSort", function () { laUnknownLast(table, sorter); });
}

/* Does a row pass one filter? "fits" passes rows whose header facts say fits/partial for the chosen
   architecture, and rows not inspected yet (marked "fit unknown"). */
function laRowMatches(row, key, value) {
  if (!value) return true;
  if (key === "fits") {
    return row.dataset.inspected === "no" || row.dataset.fits.split(" ").indexOf(value) >= 0;
  }
  return row.dataset[key] === value;
}

function laApplyFilters(form, table) {
  var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-la-filter]"));
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var shown = 0;
  var fits = form.querySelector('select[data-la-filter="fits"]').value;
  rows.forEach(function (row) {
    var match = selects.every(function (s) { return laRowMatches(row, s.dataset.laFilter, s.value); });
    row.hidden = !match;
    row.classList.toggle("la-fit-unknown", Boolean(fits) && row.dataset.inspected === "no");
    if (match) shown += 1;
  });
  form.querySelector(".la-filter-count").textContent = shown + " of " + rows.length + " shown";
}

function laFilterable(form) {
  var table = document.getElementById(form.dataset.laFilters);
  if (!table) return;
  form.hidden = false;
  form.addEventListener("change", function () { laApplyFilters(form, table); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  laApplyFilters(form, table);
}

document$.subscribe(function () {
  document.querySelectorAll("article table:not([class]), article table.la-catalog").forEach(laSortable);
  document.querySelectorAll("form[data-la-filters]").forEach(laFilterable);
});

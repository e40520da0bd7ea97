/* Sortable tables (tablesort, vendored) and the catalog filter. Runs on every page load, including
   Material's instant navigation, through document$. No outside requests. */
document$.subscribe(function () {
  document.querySelectorAll("article table:not([class]), article table.la-catalog").forEach(function (table) {
    new Tablesort(table);
  });
});

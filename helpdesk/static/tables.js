// Narrow screens show each table row as a card: every cell is labelled with its column's
// heading (data-label, read by app.css) and the table gets the class "cards". Tables whose
// template already labels its cells are left as they are. Without this script a wide
// table scrolls inside its own box, never the page.
(function () {
  document.querySelectorAll("table").forEach(function (table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) return;
    var labels = [];
    Array.prototype.forEach.call(head.cells, function (cell) {
      for (var i = 0; i < (cell.colSpan || 1); i++) labels.push(cell.textContent.trim());
    });
    Array.prototype.forEach.call(table.tBodies, label);
    if (table.tFoot) label(table.tFoot);
    table.classList.add("cards");

    function label(section) {
      Array.prototype.forEach.call(section.rows, function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && labels[col]) cell.setAttribute("data-label", labels[col]);
          col += cell.colSpan || 1;
        });
      });
    }
  });
})();

// Filters an equipment checkbox list as the user types (category, serial, registry no., location).
(function () {
  document.querySelectorAll("[data-equipment-filter]").forEach(function (input) {
    var list = document.getElementById(input.dataset.equipmentFilter);
    if (!list) return;
    function fold(s) {
      return (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/ς/g, "σ");
    }
    input.addEventListener("input", function () {
      var q = fold(input.value.trim());
      list.querySelectorAll("[data-search]").forEach(function (row) {
        row.hidden = q !== "" && fold(row.dataset.search).indexOf(q) === -1;
      });
    });
  });
  var toggle = document.getElementById("not_in_registry");
  var box = document.getElementById("not-in-registry-details");
  if (toggle && box) {
    var sync = function () { box.hidden = !toggle.checked; };
    toggle.addEventListener("change", sync);
    sync();
  }
})();

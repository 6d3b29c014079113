// The reply box's guide picker: as the technician types, the library's matching guides
// fill the list (after a pause); "Insert guide" puts the chosen one's link and summary in
// the reply (canned-replies.js does the inserting). Without JavaScript the same form asks
// the server for the page with the results (?guide_q=) or the guide in the box (?guide=).
(function () {
  document.querySelectorAll("form[data-picker-url]").forEach(function (form) {
    var input = form.querySelector("input[type=search]");
    var select = form.querySelector("select");
    if (!input || !select) return;
    var timer = null, asked = null;
    function refresh() {
      var q = input.value.trim();
      if (q === asked) return;
      asked = q;
      if (!q) { select.innerHTML = ""; return; }
      fetch(form.dataset.pickerUrl + "?q=" + encodeURIComponent(q),
            { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) {
          if (q !== asked) return;
          select.innerHTML = "";
          data.items.forEach(function (item) {
            var option = document.createElement("option");
            option.value = item.id;
            option.textContent = item.title;
            option.dataset.text = item.text;
            select.appendChild(option);
          });
        })
        .catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); refresh(); }
    });
  });
})();

// Guides suggested while a school writes a request: as the subject, the category or the
// chosen equipment change (after a pause), the server's list of guides is shown under
// the subject. The ids shown go with the request, so a request filed anyway is counted.
// Without JavaScript the form files as before.
(function () {
  var panel = document.getElementById("kb-suggestions");
  var form = document.querySelector("section.filing form");
  if (!panel || !form) return;
  var shown = document.getElementById("kb-suggested");
  var subject = form.querySelector("[name=subject]");
  var category = form.querySelector("[name=category]");
  var timer = null, asked = "";
  function query() {
    var params = new URLSearchParams();
    params.set("subject", subject ? subject.value : "");
    params.set("category", category ? category.value : "");
    form.querySelectorAll("input[name=equipment]:checked").forEach(function (box) {
      params.append("equipment", box.value);
    });
    return params.toString();
  }
  function refresh() {
    var q = query();
    if (q === asked) return;
    asked = q;
    if (!subject || subject.value.trim().length < 3) { panel.hidden = true; return; }
    fetch(panel.dataset.url + "?" + q, { credentials: "same-origin",
                                         headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (q !== asked) return;  // an older answer
        panel.innerHTML = html;
        panel.hidden = !html.trim();
        var list = panel.querySelector("[data-suggested]");
        if (shown && list) {
          var ids = shown.value ? shown.value.split(",") : [];
          list.dataset.suggested.split(",").forEach(function (id) {
            if (id && ids.indexOf(id) < 0) ids.push(id);
          });
          shown.value = ids.slice(-5).join(",");
        }
      })
      .catch(function () {});
  }
  // "This solved it": the hidden form outside the request's own, with what was written.
  panel.addEventListener("click", function (event) {
    var button = event.target.closest("button.kb-solved");
    var solved = document.getElementById("kb-solved-form");
    if (!button || !solved) return;
    solved.elements.article.value = button.dataset.article;
    solved.elements.category.value = category ? category.value : "";
    solved.elements.subject.value = subject ? subject.value : "";
    solved.submit();
  });
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 350); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  refresh();
})();

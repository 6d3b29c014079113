// Polls the import's JSON endpoint and updates the progress bar (no inline scripts: CSP).
(function () {
  var box = document.getElementById("import-run");
  if (!box) return;
  var bar = document.getElementById("import-bar");
  function show(d) {
    bar.max = d.total || 1;
    bar.value = d.processed;
    ["status_label", "processed", "total", "created", "updated", "unchanged", "errors"].forEach(function (k) {
      var el = box.querySelector('[data-k="' + k + '"]');
      if (el) el.textContent = d[k];
    });
  }
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (d) {
        show(d);
        if (d.done) { if (box.dataset.status !== d.status) window.location.reload(); }
        else setTimeout(poll, 1000);
      }).catch(function () { setTimeout(poll, 3000); });
  }
  if (box.dataset.status !== "done" && box.dataset.status !== "failed") poll();
})();

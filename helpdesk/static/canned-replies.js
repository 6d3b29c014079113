// Inserts the chosen canned reply (or article) at the cursor of the reply box, without
// reloading the page. Without JavaScript the same form asks the server for the page with
// the text already in the box (?canned=<id>).
(function () {
  document.querySelectorAll("form[data-canned-target]").forEach(function (form) {
    var box = document.getElementById(form.dataset.cannedTarget);
    var select = form.querySelector("select");
    if (!box || !select) return;
    form.addEventListener("submit", function (event) {
      var option = select.options[select.selectedIndex];
      if (!option || option.dataset.text === undefined) return;
      event.preventDefault();
      var text = option.dataset.text;
      var start = box.selectionStart, end = box.selectionEnd;
      if (typeof start !== "number") { start = end = box.value.length; }
      var before = box.value.slice(0, start), after = box.value.slice(end);
      if (before && !/\n$/.test(before)) text = "\n" + text;
      box.value = before + text + after;
      var caret = before.length + text.length;
      box.focus();
      box.setSelectionRange(caret, caret);
      box.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
})();

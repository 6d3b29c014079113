// The school picker of "New request for a school": as the user types, the same list the
// search button gives (GET /tickets/new/school/lookup?q=…, JSON, scoped on the server).
(function () {
  var input = document.querySelector("[data-school-lookup]");
  if (!input) return;
  var list = document.getElementById(input.dataset.schoolResults);
  var none = document.getElementById("school-none");
  var timer = null, asked = 0;
  function show(items) {
    list.textContent = "";
    if (none) none.hidden = items.length > 0;
    items.forEach(function (s) {
      var li = document.createElement("li"), a = document.createElement("a"),
          info = document.createElement("span");
      a.href = s.url; a.textContent = s.name;
      info.className = "muted"; info.textContent = " " + s.code + " · " + s.directorate;
      li.appendChild(a); li.appendChild(info); list.appendChild(li);
    });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) return;
    timer = setTimeout(function () {
      var mine = ++asked;
      fetch(input.dataset.schoolLookup + "?q=" + encodeURIComponent(q),
            {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : {items: []}; })
        .then(function (data) { if (mine === asked) show(data.items || []); })
        .catch(function () {});
    }, 200);
  });
})();

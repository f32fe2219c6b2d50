// Typeahead for the union picker (我要转会, 信息更正). Without it the 搜索 button does the same.
// As the member types a keyword, the matching unions of the chosen region fill the list below:
// radio buttons of the transfer form, or links of the correction page. The list only ever holds
// unions the server returned, so a typed name alone can never be submitted.
(function () {
  "use strict";
  var form = document.querySelector("[data-union-search]");
  var results = document.querySelector("[data-union-results]");
  if (!form || !results || !window.fetch) return;
  var endpoint = form.getAttribute("data-union-search");
  var region = form.elements.region;
  var keyword = form.elements.q;
  var options = results.querySelector(".ss-options");
  var more = results.querySelector(".ss-more");
  var submit = document.querySelector("[data-union-submit]");
  var pickForm = results.closest("form");
  var timer = null;
  var serial = 0;

  function option(union) {
    var label = document.createElement(results.getAttribute("data-union-results") === "link" ? "a" : "label");
    label.className = "ss-option";
    var text = document.createElement("span");
    text.textContent = union.name;
    if (union.parent) {
      var small = document.createElement("small");
      small.textContent = union.parent;
      text.appendChild(small);
    }
    if (label.tagName === "A") {
      label.href = results.getAttribute("data-link-base") + encodeURIComponent(union.id);
    } else {
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "org";
      radio.value = union.id;
      radio.required = true;
      if (String(union.id) === results.getAttribute("data-current")) radio.disabled = true;
      label.appendChild(radio);
    }
    label.appendChild(text);
    return label;
  }

  function show(data) {
    options.textContent = "";
    if (!data.results.length) {
      var empty = document.createElement("p");
      empty.className = "ss-muted ss-empty";
      empty.textContent = results.getAttribute("data-empty") || "";
      options.appendChild(empty);
    }
    data.results.forEach(function (union) { options.appendChild(option(union)); });
    if (more) more.hidden = !data.more;
    results.hidden = false;
    if (submit) submit.hidden = !data.results.length;
    if (pickForm) {
      pickForm.elements.region.value = region.value;
      pickForm.elements.q.value = keyword.value;
    }
  }

  function search() {
    var q = keyword.value.trim();
    if (!region.value || !q) { results.hidden = true; if (submit) submit.hidden = true; return; }
    var mine = ++serial;
    var url = endpoint + "?region=" + encodeURIComponent(region.value) + "&q=" + encodeURIComponent(q);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && mine === serial) show(data); })
      .catch(function () { /* the 搜索 button still works */ });
  }

  function later() { clearTimeout(timer); timer = setTimeout(search, 250); }
  keyword.addEventListener("input", later);
  region.addEventListener("change", search);
  form.addEventListener("submit", function (event) { event.preventDefault(); search(); });
})();

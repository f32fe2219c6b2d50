// 工作评议 form: small enhancements only; the form posts and works without this file.
(function () {
  "use strict";
  // 工作建议: how many characters are typed, against the limit the textarea already enforces.
  document.querySelectorAll("[data-counter-for]").forEach(function (note) {
    var field = document.getElementById(note.getAttribute("data-counter-for"));
    var text = note.getAttribute("data-counter-text");
    if (!field || !text) { return; }
    var limit = parseInt(field.getAttribute("maxlength"), 10) || 0;
    function update() {
      var count = field.value.length;
      note.textContent = text.replace("%(count)s", String(count));
      note.classList.toggle("over", limit > 0 && count >= limit);
    }
    field.addEventListener("input", update);
    update();
  });

  // 提交评议: one tap sends once; a second tap while the page loads does nothing.
  document.querySelectorAll("[data-submit-once]").forEach(function (button) {
    var form = button.form;
    var label = button.textContent;
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sending")) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sending", "1");
      // After this handler, so the press that submits is not cancelled by its own button.
      window.setTimeout(function () {
        button.disabled = true;
        button.textContent = button.getAttribute("data-busy-text") || label;
      }, 0);
    });
    // Back from the next page (bfcache): the form may be used again.
    window.addEventListener("pageshow", function () {
      form.removeAttribute("data-sending");
      button.disabled = false;
      button.textContent = label;
    });
  });
})();

// Member pages: small enhancements only; every page works without this file.
(function () {
  "use strict";
  // 获取验证码: count down the seconds before another code may be asked.
  document.querySelectorAll("[data-countdown]").forEach(function (button) {
    var left = parseInt(button.getAttribute("data-countdown"), 10) || 0;
    if (left <= 0) { return; }
    var label = button.getAttribute("data-label");
    var waiting = button.getAttribute("data-waiting");
    function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.disabled = true;
      button.textContent = waiting.replace("%(seconds)s", String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  });
})();

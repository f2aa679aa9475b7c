(function () {
  "use strict";
  var block = document.getElementById("metricdsl-charts");
  if (!block || typeof vegaEmbed === "undefined") { return; }
  var specs = JSON.parse(block.textContent);
  function themed(value) {
    var style = getComputedStyle(document.documentElement);
    return JSON.parse(JSON.stringify(value), function (key, v) {
      if (typeof v === "string" && v.indexOf("var(--") === 0) {
        return style.getPropertyValue(v.slice(4, -1)).trim() || v;
      }
      return v;
    });
  }
  function draw() {
    document.querySelectorAll("div.chart[data-chart]").forEach(function (div) {
      var spec = specs[div.getAttribute("data-chart")];
      if (!spec) { return; }
      vegaEmbed(div, themed(spec), {actions: false, renderer: "svg"}).catch(function (error) {
        div.textContent = "chart failed: " + error.message;
      });
    });
  }
  draw();
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();

// Draws the report's trend charts: every <div class="chart" data-chart="NAME"> from the Vega-Lite spec NAME of the
// JSON block #metricdsl-charts. A colour written `var(--name, #fallback)` in a spec takes the theme's value of the
// CSS variable (Vega cannot read CSS variables itself), so the charts are drawn again when the colour scheme
// changes. A chart that cannot be drawn says so in its div, as text.
(function () {
  "use strict";
  var VARIABLE = /^var\((--[A-Za-z0-9_-]+)(?:,\s*([^)]*))?\)$/;
  var views = [];

  function themed(node, style) {
    if (typeof node === "string") {
      var match = VARIABLE.exec(node);
      if (!match) return node;
      var value = style.getPropertyValue(match[1]).trim();
      return value || (match[2] || "").trim() || node;
    }
    if (Array.isArray(node)) return node.map(function (item) { return themed(item, style); });
    if (node && typeof node === "object") {
      var copy = {};
      Object.keys(node).forEach(function (key) { copy[key] = themed(node[key], style); });
      return copy;
    }
    return node;
  }

  function fail(div, message) {
    div.textContent = "chart failed: " + message;
    div.classList.add("chart-failed");
  }

  function draw() {
    views.forEach(function (view) { view.finalize(); });
    views = [];
    var divs = Array.prototype.slice.call(document.querySelectorAll("div.chart[data-chart]"));
    if (!divs.length) return;
    var specs;
    try {
      var block = document.getElementById("metricdsl-charts");
      specs = JSON.parse(block ? block.textContent : "{}");
    } catch (error) {
      divs.forEach(function (div) { fail(div, "the charts' data cannot be read (" + error.message + ")"); });
      return;
    }
    if (typeof vegaEmbed !== "function") {
      divs.forEach(function (div) { fail(div, "the chart library is missing"); });
      return;
    }
    divs.forEach(function (div) {
      var name = div.getAttribute("data-chart");
      if (!Object.prototype.hasOwnProperty.call(specs, name)) {
        fail(div, "no chart named " + name);
        return;
      }
      div.textContent = "";
      div.classList.remove("chart-failed");
      vegaEmbed(div, themed(specs[name], getComputedStyle(div)), { actions: false, renderer: "svg" })
        .then(function (result) { views.push(result); })
        .catch(function (error) { fail(div, error && error.message ? error.message : String(error)); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();

  var scheme = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  if (scheme && scheme.addEventListener) scheme.addEventListener("change", draw);

  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (details) { details.open = true; });
  });
})();

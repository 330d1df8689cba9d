/* Change-map dashboards: draw every chart on the page with Plotly, from the JSON the server put
   next to it (a <script type="application/json"> block, named by the container's data-chart).

   - A point or bar that stands for a person or an account carries its page's address as
     customdata[0]; clicking it opens that page.
   - The portfolio's filters swap in new charts with htmx; they are drawn as they arrive (and the
     old ones released first), and again when the back button restores an earlier page.
   - No eval, no inline script: the page's CSP is script-src 'self'.

   For tests and the console: each container gets data-rendered="true" once drawn, and
   document.body gets data-charts-drawn counting every drawing. */
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    displayModeBar: "hover",
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines", "zoomIn2d", "zoomOut2d"],
    toImageButtonOptions: { format: "png", scale: 2 },
  };

  function linkOf(point) {
    var data = point && point.customdata;
    if (Array.isArray(data)) {
      data = data[0];
    }
    // Only this site's own pages: the JSON is ours, but a link should never leave the app.
    return typeof data === "string" && /^\/(?!\/)/.test(data) ? data : null;
  }

  function countDrawing() {
    var body = document.body;
    body.dataset.chartsDrawn = String(Number(body.dataset.chartsDrawn || 0) + 1);
  }

  function wire(holder) {
    var drag = function () {
      return holder.querySelector(".nsewdrag") || holder.querySelector(".main-svg");
    };
    holder.on("plotly_click", function (event) {
      var url = event && event.points && event.points.length ? linkOf(event.points[0]) : null;
      if (url) {
        window.location.assign(url);
      }
    });
    holder.on("plotly_hover", function (event) {
      var target = drag();
      if (target && event.points && event.points.length && linkOf(event.points[0])) {
        target.style.cursor = "pointer";
      }
    });
    holder.on("plotly_unhover", function () {
      var target = drag();
      if (target) {
        target.style.cursor = "";
      }
    });
  }

  // Side legends take too much of a phone's width: below the chart there.
  var NARROW = 640;

  function adapt(layout, width) {
    var legend = layout.legend;
    if (width >= NARROW || !legend || legend.orientation !== "v") {
      return layout;
    }
    layout.legend = Object.assign({}, legend, { orientation: "h", x: 0, xanchor: "left", y: -0.16, yanchor: "top" });
    layout.height = (layout.height || 360) + 110;
    return layout;
  }

  function draw(holder) {
    var source = document.getElementById(holder.dataset.chart);
    if (!source || typeof window.Plotly === "undefined") {
      return;
    }
    var figure;
    try {
      figure = JSON.parse(source.textContent);
    } catch (error) {
      holder.textContent = "This chart could not be drawn; its table follows.";
      return;
    }
    if (holder.rpDrawn) {
      window.Plotly.purge(holder);
    }
    // A JS property, not an attribute: a history snapshot's copy of the markup has none.
    holder.rpDrawn = true;
    holder.dataset.rendered = "false";
    var layout = adapt(figure.layout, holder.clientWidth);
    window.Plotly.newPlot(holder, figure.data, layout, CONFIG).then(function () {
      if (!holder.rpWired) {
        wire(holder);
        holder.rpWired = true;
      }
      holder.dataset.rendered = "true";
      holder.style.minHeight = "";
      countDrawing();
    });
  }

  function drawAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-chart]")) {
      draw(scope);
    }
    scope.querySelectorAll("[data-chart]").forEach(draw);
  }

  function release(root) {
    if (typeof window.Plotly === "undefined" || !root || !root.querySelectorAll) {
      return;
    }
    root.querySelectorAll("[data-chart]").forEach(function (holder) {
      if (holder.rpDrawn) {
        window.Plotly.purge(holder);
      }
    });
  }

  function busy(target, state) {
    if (target && target.id === "portfolio-body") {
      target.setAttribute("aria-busy", state ? "true" : "false");
    }
  }

  if (window.htmx) {
    // htmx calls this for the first page and for every piece of content it swaps in.
    window.htmx.onLoad(drawAll);
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      busy(event.detail.target, true);
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      busy(event.detail.target, false);
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      // Screen readers hear what the filters changed, not the whole portfolio again.
      var status = document.getElementById("portfolio-status");
      var scope = event.detail.target && event.detail.target.querySelector(".rp-scope");
      if (status && scope) {
        status.textContent = scope.textContent.replace(/\s+/g, " ").trim();
      }
    });
    document.body.addEventListener("htmx:configRequest", function (event) {
      // Filters left at "all" stay out of the URL the portfolio pushes to the history.
      if (!event.detail.elt.matches || !event.detail.elt.matches("form[data-rp-filters]")) {
        return;
      }
      var parameters = event.detail.parameters;
      Array.from(parameters.keys ? parameters.keys() : Object.keys(parameters)).forEach(function (name) {
        var value = parameters.get ? parameters.get(name) : parameters[name];
        if (value === "") {
          if (parameters.delete) {
            parameters.delete(name);
          } else {
            delete parameters[name];
          }
        }
      });
    });
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      release(event.detail.target);
    });
    document.body.addEventListener("htmx:historyRestore", function () {
      // The portfolio is never snapshotted (hx-history="false": its JSON would fill session
      // storage), so a restore reloads it; should another page be restored from a snapshot,
      // its charts are stale markup without listeners: draw them afresh.
      document.querySelectorAll("[data-chart]").forEach(function (holder) {
        if (!holder.rpDrawn) {
          holder.textContent = "";
          draw(holder);
        }
      });
    });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      drawAll(document);
    });
  } else {
    drawAll(document);
  }
})();

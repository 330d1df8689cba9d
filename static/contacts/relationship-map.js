/* Relationship map: the account's org chart (who reports to whom, laid out by Dagre) with the
   influence links drawn on top, in Cytoscape.js. The data comes from the JSON endpoint named in
   the container's data-url; each person is drawn as a small SVG card.

   For tests and the console: the container gets data-ready="true" and data-node-count once the
   layout has finished, and the Cytoscape instance is at `container.cy`. */
(function () {
  "use strict";

  var container = document.getElementById("relationship-map");
  if (!container || typeof window.cytoscape !== "function") {
    return;
  }
  var cytoscape = window.cytoscape;
  var stage = container.parentElement;
  var statusBox = stage.querySelector("[data-map-status]");
  var farHint = stage.querySelector("[data-map-hint]");

  var CARD_W = 260;
  var CARD_H = 112;
  var RANK_SEP = 64;
  var SPINE_GAP = 16; // how far left of a hanging column its vertical line runs
  var FAR_ZOOM = 0.55; // below this, cards switch to a large-print version of themselves
  var OVERVIEW_ZOOM = 0.28; // the first view shows everyone if they fit at least this large…
  var READABLE_ZOOM = 0.75; // …else it starts at the top of the chart, this large
  var FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', 'Noto Sans', Arial, sans-serif";
  var C = {
    indigo: "#4338ca",
    indigoDark: "#312e81",
    indigoSoft: "#e0e7ff",
    ink: "#1e1b4b",
    text: "#2e3150",
    muted: "#5b6078",
    faint: "#8a90a8",
    border: "#d7dbe8",
    footer: "#f7f8fc",
    reports: "#a3a9c2",
    allies: "#16a34a",
    conflict: "#dc2626",
    amber: "#b45309",
    left: "#94a3b8",
  };
  // The same colours as .role-* in core/rapport.css, so a chip looks alike on every page.
  var ROLE_COLOURS = {
    decision_maker: ["#312e81", "#ffffff"],
    budget_holder: ["#4338ca", "#ffffff"],
    champion: ["#dcfce7", "#166534"],
    detractor: ["#fee2e2", "#991b1b"],
    gatekeeper: ["#fef3c7", "#92400e"],
  };
  var ROLE_DEFAULT = ["#eef2ff", "#3730a3"];
  var LEFT_CHIP = ["#eef1f5", "#64748b"];

  // --- Drawing a card -------------------------------------------------------------------------

  var measureCtx = document.createElement("canvas").getContext("2d");

  function textWidth(text, font) {
    measureCtx.font = font;
    return measureCtx.measureText(text).width;
  }

  function font(size, weight) {
    return (weight || 400) + " " + size + "px " + FONT;
  }

  function truncate(text, size, weight, maxWidth) {
    text = text || "";
    var f = font(size, weight);
    if (textWidth(text, f) <= maxWidth) {
      return text;
    }
    var lo = 0;
    var hi = text.length;
    while (lo < hi) {
      var mid = Math.ceil((lo + hi) / 2);
      if (textWidth(text.slice(0, mid).trimEnd() + "…", f) <= maxWidth) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return text.slice(0, lo).trimEnd() + "…";
  }

  function esc(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  function initials(name) {
    var parts = (name || "?").trim().split(/\s+/);
    var first = parts[0] ? Array.from(parts[0])[0] : "?";
    var last = parts.length > 1 ? Array.from(parts[parts.length - 1])[0] : "";
    return (first + last).toUpperCase();
  }

  function svgText(x, y, text, size, weight, fill, anchor) {
    return (
      '<text x="' + x + '" y="' + y + '" font-size="' + size + '" font-weight="' + (weight || 400) +
      '" fill="' + fill + '"' + (anchor ? ' text-anchor="' + anchor + '"' : "") + ">" + esc(text) + "</text>"
    );
  }

  function monthYear(iso) {
    if (!iso) {
      return "";
    }
    var date = new Date(iso + "T12:00:00");
    return date.toLocaleDateString(undefined, { month: "short", year: "numeric" });
  }

  function svgUri(body, width, height) {
    var svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="' + width * 2 + '" height="' + height * 2 +
      '" viewBox="0 0 ' + width + " " + height + '" font-family="' + FONT + '">' + body + "</svg>";
    return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
  }

  function badge(d, cx, cy, r, size) {
    if (d.influence) {
      var strong = d.influence >= 4 && !d.left;
      return (
        '<circle cx="' + cx + '" cy="' + cy + '" r="' + r + '" fill="' +
        (d.left ? "#e5e8ef" : strong ? C.indigo : C.indigoSoft) + '"/>' +
        svgText(cx, cy + size * 0.36, d.influence, size, 700, d.left ? C.muted : strong ? "#fff" : "#3730a3", "middle")
      );
    }
    return (
      '<circle cx="' + cx + '" cy="' + cy + '" r="' + (r - 0.75) + '" fill="#fff" stroke="#c9cede" stroke-dasharray="2.5 2"/>' +
      svgText(cx, cy + size * 0.36, "?", size, 600, C.faint, "middle")
    );
  }

  function chipRow(d, x, y, maxWidth) {
    var chips = [];
    if (d.status === "changed_role") {
      chips.push({ label: "Changed role", colours: ["#fef3c7", "#92400e"] });
    }
    d.roles.forEach(function (role) {
      chips.push({ label: role.label, colours: d.left ? LEFT_CHIP : ROLE_COLOURS[role.code] || ROLE_DEFAULT });
    });
    var size = 10.5;
    var f = font(size, 600);
    var out = "";
    var cursor = x;
    for (var i = 0; i < chips.length; i++) {
      var rest = chips.length - i - 1;
      var w = textWidth(chips[i].label, f) + 14;
      var moreW = rest ? textWidth("+" + rest, f) + 14 + 4 : 0;
      if (cursor + w + moreW > x + maxWidth) {
        var more = "+" + (chips.length - i);
        var mw = textWidth(more, f) + 14;
        out += '<rect x="' + cursor + '" y="' + y + '" width="' + mw + '" height="19" rx="9.5" fill="#f1f3f9"/>';
        out += svgText(cursor + mw / 2, y + 13.2, more, size, 600, C.muted, "middle");
        break;
      }
      out += '<rect x="' + cursor + '" y="' + y + '" width="' + w + '" height="19" rx="9.5" fill="' + chips[i].colours[0] + '"/>';
      out += svgText(cursor + w / 2, y + 13.2, chips[i].label, size, 600, chips[i].colours[1], "middle");
      cursor += w + 4;
    }
    if (!chips.length) {
      out += svgText(x, y + 13.2, "No buying role noted", 10.5, 400, C.faint);
    }
    return out;
  }

  function nearCard(d) {
    var W = CARD_W;
    var H = CARD_H;
    var nameColour = d.left ? C.muted : C.ink;
    var out = "";
    // Footer band with the owner: who on our side holds this relationship.
    out += '<path d="M0 86H' + W + "V" + (H - 10) + "a10 10 0 0 1 -10 10H10a10 10 0 0 1 -10 -10Z" + '" fill="' + C.footer + '"/>';
    out += '<path d="M0 86.5H' + W + '" stroke="#eceef5"/>';
    // Avatar with initials; filled indigo for key people.
    var avatarFill = d.left ? "#e5e8ef" : d.key ? C.indigo : C.indigoSoft;
    var avatarInk = d.left ? C.muted : d.key ? "#fff" : C.indigoDark;
    out += '<circle cx="33" cy="34" r="19" fill="' + avatarFill + '"/>';
    out += svgText(33, 38.6, initials(d.name), 13, 700, avatarInk, "middle");
    // Top right: the influence badge, or when they left.
    var right = W - 14;
    var nameRoom = right - 62 - 30;
    if (d.left) {
      var leftLabel = "Left" + (d.left_on ? " " + monthYear(d.left_on) : "");
      var pw = textWidth(leftLabel, font(10, 600)) + 14;
      out += '<rect x="' + (right - pw) + '" y="13" width="' + pw + '" height="18" rx="9" fill="#e5e8ef"/>';
      out += svgText(right - pw / 2, 25.6, leftLabel, 10, 600, "#475569", "middle");
      nameRoom = right - 62 - pw - 6;
    } else {
      out += badge(d, right - 12, 26, 12, 12);
    }
    out += svgText(62, 31, truncate(d.name, 14.5, 700, nameRoom), 14.5, 700, nameColour);
    out += svgText(62, 50, truncate(d.title || d.department || "No job title yet", 12, 400, right - 62), 12, 400, C.muted);
    out += chipRow(d, 14, 58, W - 28);
    // Owner line.
    if (d.owner) {
      var label = "Owner: ";
      var lw = textWidth(label, font(11.5, 400));
      out += svgText(14, 104, label, 11.5, 400, C.faint);
      out += svgText(14 + lw, 104, truncate(d.owner, 11.5, 600, W - 28 - lw), 11.5, 600, d.left ? C.muted : C.text);
    } else {
      out += '<circle cx="20" cy="100" r="6" fill="#fef3c7"/>' + svgText(20, 103.6, "!", 10, 800, C.amber, "middle");
      out += svgText(32, 104, "No owner on our side", 11.5, 600, C.amber);
    }
    return svgUri(out, W, H);
  }

  // Large print for zoomed-out views: the name and the colours of someone's roles, nothing else.
  function farCard(d) {
    var W = CARD_W;
    var H = CARD_H;
    var out = "";
    var right = W - 16;
    out += d.left ? "" : badge(d, right - 18, 30, 18, 19);
    var words = (d.name || "").trim().split(/\s+/);
    var first = words.length > 1 ? words.slice(0, -1).join(" ") : words[0] || "";
    var last = words.length > 1 ? words[words.length - 1] : "";
    var colour = d.left ? C.muted : C.ink;
    out += svgText(16, 42, truncate(first, 30, 700, right - 16 - 46), 30, 700, colour);
    if (last) {
      out += svgText(16, 78, truncate(last, 30, 700, right - 16), 30, 700, colour);
    }
    var strip = d.left ? [] : d.roles.map(function (role) { return ROLE_COLOURS[role.code] || ROLE_DEFAULT; });
    var x = 16;
    strip.slice(0, 5).forEach(function (colours) {
      out += '<rect x="' + x + '" y="90" width="40" height="11" rx="5.5" fill="' + colours[0] + '"' +
        (colours === ROLE_DEFAULT ? ' stroke="#c7cce0"' : "") + "/>";
      x += 46;
    });
    return svgUri(out, W, H);
  }

  // --- Style ------------------------------------------------------------------------------------

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  var style = [
    {
      selector: "node.person",
      style: {
        shape: "round-rectangle",
        "corner-radius": 10,
        width: CARD_W,
        height: CARD_H,
        "background-color": "#fff",
        "background-image": "data(card)",
        "background-width": "100%",
        "background-height": "100%",
        "border-width": 1,
        "border-color": C.border,
        "overlay-opacity": 0,
        "underlay-color": C.indigo,
        "underlay-opacity": 0,
        "underlay-padding": 6,
        "underlay-shape": "round-rectangle",
        "transition-property": "opacity, underlay-opacity",
        "transition-duration": 120,
      },
    },
    { selector: "node.person.far", style: { "background-image": "data(cardFar)" } },
    {
      selector: "node.person.key",
      style: { "border-width": 2.5, "border-color": C.indigo, "underlay-opacity": 0.09 },
    },
    // A later issue gives people a change-map category; its colour then frames the card.
    {
      selector: "node.person[categoryColour]",
      style: { "border-width": 3, "border-color": "data(categoryColour)" },
    },
    { selector: "node.person.key.far", style: { "border-width": 5, "background-color": "#eef0ff" } },
    {
      selector: "node.person.left",
      style: {
        "background-color": "#f6f7fa",
        "border-style": "dashed",
        "border-color": "#b6bdcc",
        "border-width": 1.5,
        "underlay-opacity": 0,
        opacity: 0.8,
      },
    },
    { selector: "node.person.hover", style: { "underlay-opacity": 0.2, "border-color": C.indigo } },
    {
      selector: "node.person.found",
      style: { "underlay-color": "#f59e0b", "underlay-opacity": 0.45, "underlay-padding": 10 },
    },
    {
      selector: "edge",
      style: {
        width: 1.6,
        "line-color": C.reports,
        "curve-style": "taxi",
        "taxi-direction": "downward",
        "taxi-turn": "50%",
        "overlay-opacity": 0,
      },
    },
    { selector: "edge.reports_to", style: { "line-cap": "square" } },
    {
      selector: "edge.hanging",
      style: { "curve-style": "segments", "edge-distances": "node-position", "segment-radius": 0 },
    },
    { selector: ".scaffold", style: { visibility: "hidden", events: "no", width: 1, height: 1 } },
    {
      selector: "edge.link",
      style: {
        "curve-style": "unbundled-bezier",
        "control-point-distances": 36,
        "control-point-weights": 0.5,
        width: "mapData(strength, 1, 5, 1.4, 3.6)",
        opacity: 0.9,
        "arrow-scale": 1.1,
        "z-index": 5,
        "font-size": 11,
        "font-weight": 600,
        "text-background-color": "#fff",
        "text-background-opacity": 1,
        "text-background-padding": 3,
        "text-background-shape": "round-rectangle",
        "text-border-width": 1,
        "text-border-opacity": 1,
      },
    },
    {
      selector: "edge.influences",
      style: {
        "line-color": C.indigo,
        "line-style": "dashed",
        "line-dash-pattern": [7, 4],
        "target-arrow-shape": "triangle",
        "target-arrow-color": C.indigo,
        color: C.indigoDark,
        "text-border-color": "#c7d2fe",
      },
    },
    {
      selector: "edge.allies_with",
      style: { "line-color": C.allies, color: "#166534", "text-border-color": "#bbf7d0" },
    },
    {
      selector: "edge.in_conflict_with",
      style: {
        "line-color": C.conflict,
        "source-arrow-shape": "tee",
        "target-arrow-shape": "tee",
        "source-arrow-color": C.conflict,
        "target-arrow-color": C.conflict,
        color: "#991b1b",
        "text-border-color": "#fecaca",
      },
    },
    { selector: "edge[?left]", style: { opacity: 0.4 } },
    { selector: "edge.link.hover, edge.link.lit", style: { label: "data(caption)", opacity: 1, "z-index": 20 } },
    { selector: ".faded", style: { opacity: 0.18 } },
    { selector: "node.faded", style: { "underlay-opacity": 0 } },
    { selector: ".hidden", style: { display: "none" } },
  ];

  // --- Layout -----------------------------------------------------------------------------------

  // Whether an element is on the map now. Cytoscape's own :visible lags a class change on an
  // edge's ends until the next style pass, and the layout runs right after such a change.
  function shown(ele) {
    if (ele.hasClass("hidden")) {
      return false;
    }
    return ele.isNode() || (shown(ele.source()) && shown(ele.target()));
  }

  function byImportance(a, b) {
    var ka = a.data("key") ? 1 : 0;
    var kb = b.data("key") ? 1 : 0;
    if (ka !== kb) {
      return kb - ka;
    }
    var ia = a.data("influence") || 0;
    var ib = b.data("influence") || 0;
    if (ia !== ib) {
      return ib - ia;
    }
    return (a.data("name") || "").localeCompare(b.data("name") || "");
  }

  /* Dagre puts every report of a manager side by side, which makes real organisations (a
     handful of heads, each with a team) very wide. Teams of people without reports of their own
     hang in a column under their manager instead, as on paper org charts: Dagre sees the column
     as a chain of invisible edges, and the real reports-to lines are drawn afterwards as a spine
     on the column's left. People with no manager and no reports are stacked the same way, and
     every top of a tree hangs from one invisible root so that all the tops share the first row. */
  function planColumns(cy) {
    var people = cy.nodes("node.person").filter(shown);
    var treeEdges = cy.edges("edge.reports_to").filter(shown);
    var reportsOf = function (node) {
      return node.outgoers("edge.reports_to").filter(shown);
    };
    var chains = [];
    var hanging = cy.collection();
    var skip = cy.collection();
    people.forEach(function (manager) {
      var out = reportsOf(manager);
      var leaves = out.targets().filter(function (n) {
        return reportsOf(n).empty();
      });
      if (leaves.length < 2) {
        return;
      }
      leaves = leaves.sort(byImportance);
      leaves.forEach(function (leaf, i) {
        var edge = out.filter(function (e) {
          return e.target().same(leaf);
        });
        hanging = hanging.union(edge);
        if (i > 0) {
          skip = skip.union(edge);
          chains.push([leaves[i - 1].id(), leaf.id()]);
        }
      });
    });
    var loners = people
      .filter(function (n) {
        return n.connectedEdges("edge.reports_to").filter(shown).empty();
      })
      .sort(byImportance);
    if (loners.length > 3) {
      var perColumn = Math.max(3, Math.ceil(Math.sqrt(loners.length)));
      loners.forEach(function (node, i) {
        if (i % perColumn) {
          chains.push([loners[i - 1].id(), node.id()]);
        }
      });
    }
    var chained = {};
    chains.forEach(function (pair) {
      chained[pair[1]] = true;
    });
    var tops = people.filter(function (node) {
      return !chained[node.id()] && node.incomers("edge.reports_to").filter(shown).empty();
    });
    return { people: people, treeEdges: treeEdges.difference(skip), hanging: hanging, chains: chains, tops: tops };
  }

  function routeHanging(edges) {
    edges.forEach(function (edge) {
      var s = edge.source().position();
      var t = edge.target().position();
      var busY = s.y + CARD_H / 2 + RANK_SEP / 2;
      var spineX = t.x - CARD_W / 2 - SPINE_GAP;
      var points = [
        { x: s.x, y: busY },
        { x: spineX, y: busY },
        { x: spineX, y: t.y },
      ];
      var dx = t.x - s.x;
      var dy = t.y - s.y;
      var len = Math.hypot(dx, dy) || 1;
      var dir = { x: dx / len, y: dy / len };
      var normal = { x: -dir.y, y: dir.x };
      var weights = [];
      var distances = [];
      points.forEach(function (p) {
        var v = { x: p.x - s.x, y: p.y - s.y };
        weights.push((v.x * dir.x + v.y * dir.y) / len);
        distances.push(v.x * normal.x + v.y * normal.y);
      });
      edge.style({
        "segment-weights": weights,
        "segment-distances": distances,
        "source-endpoint": "0px " + CARD_H / 2 + "px",
        "target-endpoint": -CARD_W / 2 + "px 0px",
      });
    });
  }

  function runLayout(cy, animate) {
    cy.remove(".scaffold");
    var plan = planColumns(cy);
    var scaffold = cy.add(
      [{ group: "nodes", data: { id: "scaffold-root" }, classes: "scaffold" }]
        .concat(
          plan.tops.map(function (top) {
            return { group: "edges", data: { id: "scaffold-" + top.id(), source: "scaffold-root", target: top.id() }, classes: "scaffold" };
          })
        )
        .concat(
          plan.chains.map(function (pair, i) {
            return { group: "edges", data: { id: "scaffold-chain" + i, source: pair[0], target: pair[1] }, classes: "scaffold" };
          })
        )
    );
    cy.edges("edge.hanging").removeClass("hanging").removeStyle();
    plan.hanging.addClass("hanging");
    var layout = plan.people.union(plan.treeEdges).union(scaffold).layout({
      name: "dagre",
      rankDir: "TB",
      nodeSep: 44,
      rankSep: RANK_SEP,
      edgeSep: 12,
      ranker: "network-simplex",
      fit: false,
      animate: !!animate,
      animationDuration: 350,
      sort: function (a, b) {
        return a.isNode() && b.isNode() ? byImportance(a, b) : 0;
      },
    });
    return new Promise(function (resolve) {
      layout.one("layoutstop", function () {
        routeHanging(plan.hanging);
        resolve();
      });
      layout.run();
    });
  }

  // --- Viewport ---------------------------------------------------------------------------------

  function syncDetail(cy) {
    var far = cy.zoom() < FAR_ZOOM;
    if (far !== container.classList.contains("is-far")) {
      container.classList.toggle("is-far", far);
      if (farHint) {
        farHint.hidden = !far;
      }
      cy.batch(function () {
        cy.nodes("node.person").toggleClass("far", far);
      });
    }
  }

  // Everyone in view, but never blown up past life size when there are only a few people.
  function fitView(cy, animate) {
    var visible = cy.nodes("node.person").filter(shown);
    if (visible.empty()) {
      return;
    }
    var bb = visible.boundingBox();
    var pad = 36;
    var zoom = Math.min(1, (cy.width() - 2 * pad) / bb.w, (cy.height() - 2 * pad) / bb.h);
    zoom = Math.max(cy.minZoom(), zoom);
    var pan = { x: cy.width() / 2 - (bb.x1 + bb.w / 2) * zoom, y: cy.height() / 2 - (bb.y1 + bb.h / 2) * zoom };
    if (animate) {
      cy.animate({ zoom: zoom, pan: pan, duration: 300 });
    } else {
      cy.viewport({ zoom: zoom, pan: pan });
    }
  }

  function firstView(cy) {
    fitView(cy, false);
    if (cy.zoom() >= OVERVIEW_ZOOM) {
      return;
    }
    // Too many people to read at once: start at the top of the biggest tree, readable.
    var visible = cy.nodes("node.person").filter(shown);
    var teamSize = function (node) {
      var seen = {};
      var stack = [node];
      while (stack.length) {
        var current = stack.pop();
        seen[current.id()] = true;
        current
          .outgoers("edge.reports_to")
          .filter(shown)
          .targets()
          .forEach(function (report) {
            if (!seen[report.id()]) {
              stack.push(report);
            }
          });
      }
      return Object.keys(seen).length;
    };
    var top = visible
      .filter(function (node) {
        return node.incomers("edge.reports_to").filter(shown).empty();
      })
      .max(teamSize).ele;
    if (!top) {
      return;
    }
    var bb = visible.boundingBox();
    cy.viewport({
      zoom: READABLE_ZOOM,
      pan: { x: cy.width() / 2 - top.position("x") * READABLE_ZOOM, y: 28 - bb.y1 * READABLE_ZOOM },
    });
  }

  function zoomBy(cy, factor) {
    var level = Math.min(cy.maxZoom(), Math.max(cy.minZoom(), cy.zoom() * factor));
    cy.animate({ zoom: { level: level, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } }, duration: 180 });
  }

  // --- Page -------------------------------------------------------------------------------------

  function showStatus(message, isError) {
    statusBox.hidden = !message;
    statusBox.classList.toggle("map-error", !!isError);
    if (message) {
      statusBox.textContent = message;
    }
  }

  function markReady(cy) {
    container.dataset.nodeCount = String(cy.nodes("node.person").filter(shown).length);
    container.dataset.ready = "true";
  }

  function prepare(elements) {
    elements.nodes.forEach(function (node) {
      var d = node.data;
      d.card = nearCard(d);
      d.cardFar = farCard(d);
      if (d.category) {
        d.categoryColour = cssVar("--rp-cat-" + d.category.replace(/_/g, "-")) || C.left;
      }
    });
    var names = {};
    elements.nodes.forEach(function (node) {
      names[node.data.id] = node.data.name;
    });
    elements.edges.forEach(function (edge) {
      var d = edge.data;
      if (d.kind !== "reports_to") {
        d.caption = d.label + " · " + d.strength + "/5";
        d.sentence = names[d.source] + " " + d.label + " " + names[d.target];
      }
    });
    return elements;
  }

  function fillCategoryLegend(cy) {
    var slot = document.querySelector('[data-map-legend="categories"]');
    var seen = {};
    cy.nodes("node.person[categoryColour]").forEach(function (node) {
      seen[node.data("category")] = node.data("categoryColour");
    });
    var keys = Object.keys(seen);
    if (!slot || !keys.length) {
      return;
    }
    keys.forEach(function (key) {
      var item = document.createElement("span");
      item.className = "legend-item";
      var swatch = document.createElement("span");
      swatch.className = "legend-swatch";
      swatch.style.background = seen[key];
      item.append(swatch, key.replace(/_/g, " "));
      slot.append(item);
    });
    slot.hidden = false;
  }

  function wireInteractions(cy) {
    cy.on("mouseover", "node.person", function (event) {
      var node = event.target;
      container.style.cursor = "pointer";
      node.addClass("hover");
      var hood = node.closedNeighborhood().filter(shown);
      cy.elements().filter(shown).not(hood).not(".scaffold").addClass("faded");
      node.connectedEdges("edge.link").addClass("lit");
    });
    cy.on("mouseout", "node.person", function (event) {
      container.style.cursor = "";
      event.target.removeClass("hover");
      cy.elements().removeClass("faded lit");
    });
    cy.on("mouseover", "edge.link", function (event) {
      event.target.addClass("hover");
      container.title = event.target.data("sentence");
    });
    cy.on("mouseout", "edge.link", function (event) {
      event.target.removeClass("hover");
      container.title = "";
    });
    // Cards cannot be moved (the layout places them), so dragging one pans the map instead.
    var dragFrom = null;
    cy.on("tapstart", "node.person", function (event) {
      dragFrom = event.renderedPosition;
    });
    cy.on("tapdrag", function (event) {
      if (dragFrom) {
        var at = event.renderedPosition;
        cy.panBy({ x: at.x - dragFrom.x, y: at.y - dragFrom.y });
        dragFrom = at;
      }
    });
    cy.on("tapend", function () {
      dragFrom = null;
    });
    cy.on("tap", "node.person", function (event) {
      var url = event.target.data("url");
      if (url) {
        window.location.assign(url);
      }
    });
    cy.on("zoom", function () {
      syncDetail(cy);
    });

    document.querySelectorAll("[data-map-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var action = button.dataset.mapAction;
        if (action === "zoom-in") {
          zoomBy(cy, 1.3);
        } else if (action === "zoom-out") {
          zoomBy(cy, 1 / 1.3);
        } else if (action === "fit") {
          fitView(cy, true);
        } else if (action === "png") {
          downloadPng(cy);
        }
      });
    });

    var linksToggle = document.querySelector('[data-map-toggle="links"]');
    if (linksToggle) {
      linksToggle.addEventListener("change", function () {
        cy.edges("edge.link").toggleClass("hidden", !linksToggle.checked);
      });
    }
    var leftToggle = document.querySelector('[data-map-toggle="left"]');
    if (leftToggle) {
      leftToggle.addEventListener("change", function () {
        container.dataset.ready = "false";
        cy.nodes("node.person.left").toggleClass("hidden", !leftToggle.checked);
        runLayout(cy, true).then(function () {
          fitView(cy, true);
          markReady(cy);
        });
      });
    }

    var find = document.querySelector("[data-map-find]");
    if (find) {
      var input = find.querySelector("input");
      var go = function (event) {
        if (event) {
          event.preventDefault();
        }
        var query = input.value.trim().toLowerCase();
        if (!query) {
          return;
        }
        var people = cy.nodes("node.person").filter(shown);
        var match = people.filter(function (n) {
          return n.data("name").toLowerCase() === query;
        });
        if (match.empty()) {
          match = people.filter(function (n) {
            return n.data("name").toLowerCase().indexOf(query) !== -1;
          });
        }
        if (match.empty()) {
          input.setCustomValidity("Nobody by that name on the map.");
          input.reportValidity();
          return;
        }
        input.setCustomValidity("");
        var node = match.first();
        cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1), duration: 350 });
        node.addClass("found");
        window.setTimeout(function () {
          node.removeClass("found");
        }, 1800);
      };
      find.addEventListener("submit", go);
      input.addEventListener("change", go);
      input.addEventListener("input", function () {
        input.setCustomValidity("");
      });
    }
  }

  function downloadPng(cy) {
    var link = document.createElement("a");
    // The picture is drawn life-size, so it gets the detailed cards whatever the zoom on screen.
    var far = cy.nodes("node.person.far");
    far.removeClass("far");
    link.href = cy.png({ full: true, scale: 2, maxWidth: 8000, maxHeight: 8000, bg: "#ffffff", output: "base64uri" });
    far.addClass("far");
    link.download = (container.dataset.account || "Account") + " relationship map.png";
    document.body.append(link);
    link.click();
    link.remove();
  }

  function draw(elements) {
    if (!elements.nodes.length) {
      showStatus("No people yet — add people or import a file.");
      container.dataset.ready = "true";
      return;
    }
    var cy = cytoscape({
      container: container,
      elements: prepare(elements),
      style: style,
      minZoom: 0.12,
      maxZoom: 2.5,
      autoungrabify: true,
      autounselectify: true,
      boxSelectionEnabled: false,
      layout: { name: "preset" },
    });
    container.cy = cy;
    wireInteractions(cy);
    fillCategoryLegend(cy);
    runLayout(cy, false).then(function () {
      firstView(cy);
      syncDetail(cy);
      showStatus("");
      markReady(cy);
    });
  }

  fetch(container.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    })
    .then(draw)
    .catch(function (error) {
      showStatus("The map could not be drawn (" + error.message + "). Reload the page to try again.", true);
      if (window.console) {
        window.console.error(error);
      }
    });
})();

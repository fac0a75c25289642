// Dispatcher console: ticking timers, check-in and emergency alerts, the
// map, incident selection and live refresh of the selected incident.
// The queue and the board refresh themselves through htmx triggers on the
// live-* events that live.js dispatches.
(function () {
  "use strict";

  var root = document.getElementById("dispatch-root");
  if (!root) {
    return;
  }

  function readJson(id, fallback) {
    var element = document.getElementById(id);
    if (!element) {
      return fallback;
    }
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      console.error("Invalid JSON in #" + id, error);
      return fallback;
    }
  }

  var labels = readJson("timer-labels", {});
  var mapConfig = readJson("map-config", {});
  var outline = readJson("county-outline", []);

  // Offset between the server clock and this browser's clock, so timers
  // count from the server's T0 even when the browser clock is off.
  var serverOffsetMs = Date.parse(root.getAttribute("data-server-now")) - Date.now();
  if (isNaN(serverOffsetMs)) {
    serverOffsetMs = 0;
  }

  function serverNow() {
    return Date.now() + serverOffsetMs;
  }

  // Shares of the standard at which a timer changes colour; the same as
  // WARNING_SHARE and CRITICAL_SHARE in board.py.
  var WARNING_SHARE = 0.75;
  var CRITICAL_SHARE = 0.9;

  function timerState(elapsedMinutes, standardMinutes) {
    var share = elapsedMinutes / standardMinutes;
    if (share > 1) {
      return "missed";
    }
    if (share >= CRITICAL_SHARE) {
      return "critical";
    }
    if (share >= WARNING_SHARE) {
      return "warning";
    }
    return "ok";
  }

  // --- Timers and alerts --------------------------------------------------

  var alertsShown = {};

  // Remove each check-in alert whose team is no longer overdue with the
  // same due time, for example because the team checked in and the board
  // now shows a later due time.
  function clearResolvedCheckinAlerts(overdueKeys) {
    document.querySelectorAll("#alerts [data-alert^='checkin-']").forEach(function (alert) {
      if (!overdueKeys[alert.getAttribute("data-alert")]) {
        alert.remove();
      }
    });
  }

  function addAlert(key, text, kind) {
    if (alertsShown[key]) {
      return;
    }
    alertsShown[key] = true;
    var container = document.getElementById("alerts");
    var alert = document.createElement("div");
    alert.className = "alert alert--" + kind;
    alert.setAttribute("data-alert", key);
    var message = document.createElement("span");
    message.textContent = text;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button--secondary";
    button.textContent = labels.acknowledge || "Acknowledge";
    button.addEventListener("click", function () {
      alert.remove();
    });
    alert.appendChild(message);
    alert.appendChild(button);
    container.appendChild(alert);
  }

  function tickTimers() {
    var now = serverNow();
    document.querySelectorAll("[data-timer]").forEach(function (timer) {
      var t0 = Date.parse(timer.getAttribute("data-t0"));
      var standard = Number(timer.getAttribute("data-standard"));
      var elapsed = Math.max(0, (now - t0) / 60000);
      var state = timerState(elapsed, standard);
      timer.className = "timer timer--" + state;
      timer.setAttribute("data-state", state);
      var text = timer.querySelector("[data-timer-text]");
      if (text) {
        text.textContent = Math.floor(elapsed) + " " + labels.min + " " + labels.of + " " + standard;
      }
      var label = timer.querySelector("[data-timer-label]");
      if (label) {
        label.textContent = labels[state];
      }
    });
    document.querySelectorAll("[data-since]").forEach(function (element) {
      var minutes = Math.max(0, Math.floor((now - Date.parse(element.getAttribute("data-since"))) / 60000));
      element.textContent = (labels.for_minutes || "for %(minutes)s min").replace("%(minutes)s", minutes);
    });
    var overdueKeys = {};
    document.querySelectorAll("[data-checkin-due]").forEach(function (element) {
      var due = Date.parse(element.getAttribute("data-checkin-due"));
      if (now <= due) {
        return;
      }
      overdueKeys["checkin-" + element.getAttribute("data-team-name") + "-" + due] = true;
      var teamName = element.getAttribute("data-team-name");
      var overdueMinutes = Math.floor((now - due) / 60000);
      element.classList.add("checkin-timer--overdue");
      element.textContent = labels.checkin_overdue;
      var card = element.closest(".team-card");
      if (card) {
        card.classList.add("is-overdue");
      }
      addAlert(
        "checkin-" + teamName + "-" + due,
        labels.checkin_overdue + ": " + teamName + " " + labels.overdue_alert + " " +
          (Number(root.getAttribute("data-checkin-minutes")) + overdueMinutes) + " " + labels.min,
        "overdue"
      );
    });
    clearResolvedCheckinAlerts(overdueKeys);
  }

  // --- Map ----------------------------------------------------------------

  var map = null;
  var featureLayer = null;

  function initMap() {
    var element = document.getElementById("map");
    if (!element || typeof L === "undefined") {
      return;
    }
    map = L.map(element, { zoomSnap: 0.25, zoomControl: false });
    // Leaflet's own control titles are English; the server sends them translated.
    L.control.zoom({
      zoomInTitle: mapConfig.zoom_in_title || "Zoom in",
      zoomOutTitle: mapConfig.zoom_out_title || "Zoom out",
    }).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    if (mapConfig.tile_url) {
      L.tileLayer(mapConfig.tile_url, {
        attribution: mapConfig.attribution || "",
        maxZoom: 18,
      }).addTo(map);
    }
    if (outline.length) {
      var county = L.polygon(outline, {
        color: "#1d4f91", weight: 2, fill: false, interactive: false,
      }).addTo(map);
      map.fitBounds(county.getBounds());
    } else {
      map.setView([38.58, -121.49], 10);
    }
    featureLayer = L.layerGroup().addTo(map);
    refreshMap();
  }

  function refreshMap() {
    if (!map || !mapConfig.features_url) {
      return;
    }
    fetch(mapConfig.features_url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("map features: HTTP " + response.status);
        }
        return response.json();
      })
      .then(drawFeatures)
      .catch(function (error) {
        console.error("Map refresh failed", error);
      });
  }

  function drawFeatures(data) {
    featureLayer.clearLayers();
    data.teams.forEach(function (team) {
      L.circleMarker([team.latitude, team.longitude], {
        radius: 8, color: "#143a6b", weight: 2,
        fillColor: team.status === "available" ? "#1e6b34" : "#8a5a00", fillOpacity: 0.9,
        className: "team-marker team-marker--" + team.status,
      })
        .bindTooltip(team.name + " · " + team.status_label)
        .addTo(featureLayer);
    });
    data.incidents.forEach(function (incident) {
      var icon = L.divIcon({
        className: "incident-marker incident-marker--p" + incident.priority,
        html: "<span>" + incident.priority + "</span>",
        iconSize: [24, 24],
      });
      L.marker([incident.latitude, incident.longitude], { icon: icon, keyboard: false })
        .bindTooltip(incident.number + " · " + incident.status_label)
        .on("click", function () {
          selectIncident(String(incident.id));
        })
        .addTo(featureLayer);
    });
    root.setAttribute("data-map-teams", String(data.teams.length));
    root.setAttribute("data-map-incidents", String(data.incidents.length));
  }

  var mapRefreshTimer = null;

  function scheduleMapRefresh() {
    window.clearTimeout(mapRefreshTimer);
    mapRefreshTimer = window.setTimeout(refreshMap, 150);
  }

  // --- Selected incident ----------------------------------------------------

  function selectedId() {
    return root.getAttribute("data-selected-incident") || "";
  }

  // Put ``id`` in place of the "/0/" path segment of a URL template such as
  // /dispatch/incidents/0/ or /dispatch/incidents/0/summary/.
  function urlFor(template, id) {
    var index = template.lastIndexOf("/0/");
    if (index < 0) {
      throw new Error("URL template without a /0/ segment: " + template);
    }
    return template.slice(0, index) + "/" + encodeURIComponent(id) + "/" + template.slice(index + 3);
  }

  function markSelectedRow() {
    var id = selectedId();
    document.querySelectorAll(".queue-row").forEach(function (row) {
      var selected = row.getAttribute("data-incident-id") === id;
      row.classList.toggle("is-selected", selected);
      var link = row.querySelector("[data-select-incident]");
      if (link) {
        if (selected) {
          link.setAttribute("aria-current", "true");
        } else {
          link.removeAttribute("aria-current");
        }
      }
    });
  }

  function loadPanel(id) {
    var url = urlFor(root.getAttribute("data-incident-url-template"), id);
    return htmx.ajax("GET", url, { target: "#incident-panel", swap: "innerHTML" });
  }

  function selectIncident(id) {
    root.setAttribute("data-selected-incident", id);
    var consoleUrl = window.location.pathname + "?incident=" + id;
    window.history.pushState({ incident: id }, "", consoleUrl);
    markSelectedRow();
    loadPanel(id);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-select-incident]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    selectIncident(link.getAttribute("data-select-incident"));
  });

  window.addEventListener("popstate", function () {
    var id = new URLSearchParams(window.location.search).get("incident") || "";
    root.setAttribute("data-selected-incident", id);
    markSelectedRow();
    if (id) {
      loadPanel(id);
    }
  });

  // The queue fragment marks the selected row when the request names it.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "queue" && selectedId()) {
      event.detail.parameters.incident = selectedId();
    }
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "incident-panel") {
      var detail = document.getElementById("incident-detail");
      if (detail) {
        root.setAttribute("data-selected-incident", detail.getAttribute("data-incident-id"));
      }
      markSelectedRow();
    }
    tickTimers();
  });

  function refreshSelected(fullPanel) {
    var id = selectedId();
    if (!id) {
      return;
    }
    if (fullPanel || !document.getElementById("incident-summary")) {
      loadPanel(id);
      return;
    }
    var url = urlFor(root.getAttribute("data-summary-url-template"), id);
    htmx.ajax("GET", url, { target: "#incident-summary", swap: "innerHTML" });
  }

  var summaryRefreshTimer = null;
  // Actions posted from the incident panel still waiting for a response.
  // The response is rendered after the commit, so it already shows what a
  // live event about the same change would fetch.
  var panelPostsInFlight = 0;

  function isPanelPost(event) {
    var element = event.detail.elt;
    return element && element.closest && element.closest("#incident-panel") &&
      (event.detail.requestConfig && event.detail.requestConfig.verb === "post");
  }

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (isPanelPost(event)) {
      panelPostsInFlight += 1;
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (isPanelPost(event)) {
      panelPostsInFlight = Math.max(0, panelPostsInFlight - 1);
    }
  });

  document.body.addEventListener("live-event", function (event) {
    var name = event.detail.event;
    var payload = event.detail.payload;
    // Emergency alerts are rendered by the server in #emergency-alerts,
    // which htmx refreshes on every live-team event, so they survive a
    // reload until a dispatcher acknowledges them.
    scheduleMapRefresh();
    var detail = document.getElementById("incident-detail");
    if (panelPostsInFlight > 0) {
      return;
    }
    if (name.indexOf("incident.") === 0 && String(payload.id) === selectedId()) {
      // A new status changes which actions apply, so the whole panel
      // is re-rendered; otherwise only its summary.
      var statusChanged = !detail || detail.getAttribute("data-status") !== payload.status;
      refreshSelected(statusChanged);
      return;
    }
    if (name.indexOf("team.") === 0 && detail && selectedId()) {
      // Team moves change the recommendations of the selected incident.
      window.clearTimeout(summaryRefreshTimer);
      summaryRefreshTimer = window.setTimeout(function () {
        refreshSelected(false);
      }, 100);
    }
  });

  document.body.addEventListener("live-resync", function () {
    scheduleMapRefresh();
    refreshSelected(true);
  });

  initMap();
  tickTimers();
  window.setInterval(tickTimers, 1000);
})();

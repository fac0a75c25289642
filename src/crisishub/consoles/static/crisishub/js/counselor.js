// Counselor contact page: the location map, and autosave that survives a
// dropped connection or a reload.
(function () {
  "use strict";

  var RETRY_MS = 3000;
  var retryTimer = null;
  var dirty = false;

  function detailsForm() {
    return document.getElementById("caller-details-form");
  }

  // --- Autosave: retry after a network error, flush on page hide ---------

  function scheduleRetry(form) {
    if (retryTimer) {
      return;
    }
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      if (dirty) {
        window.htmx.trigger(form, "retry-save");
      }
    }, RETRY_MS);
  }

  document.addEventListener("input", function (event) {
    var form = detailsForm();
    if (form && form.contains(event.target)) {
      dirty = true;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = detailsForm();
    if (form && event.detail.elt === form && event.detail.xhr && event.detail.xhr.status) {
      dirty = false;
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = detailsForm();
    if (form && event.detail.elt === form) {
      dirty = true;
      scheduleRetry(form);
    }
  });

  window.addEventListener("online", function () {
    var form = detailsForm();
    if (form && dirty) {
      window.htmx.trigger(form, "retry-save");
    }
  });

  // Typing that the debounce has not sent yet is sent as a beacon when the
  // page goes away, so a reload keeps it.
  window.addEventListener("pagehide", function () {
    var form = detailsForm();
    if (form && dirty && navigator.sendBeacon) {
      navigator.sendBeacon(form.action, new FormData(form));
    }
  });

  // --- Step forms: typed values kept on the server before submit -----------

  var DRAFT_DELAY_MS = 600;
  var pendingDrafts = new Map();

  function sendFormDraft(form) {
    pendingDrafts.delete(form);
    window.fetch(form.getAttribute("data-form-draft"), {
      method: "POST", body: new FormData(form), credentials: "same-origin",
    }).catch(function () {
      // A lost draft save is retried by the next keystroke; the submit
      // itself still carries every value.
    });
  }

  function queueFormDraft(form) {
    if (!form || !form.hasAttribute("data-form-draft")) {
      return;
    }
    window.clearTimeout(pendingDrafts.get(form));
    pendingDrafts.set(form, window.setTimeout(function () {
      sendFormDraft(form);
    }, DRAFT_DELAY_MS));
  }

  function onStepFormEdit(event) {
    var form = event.target && event.target.closest && event.target.closest("form[data-form-draft]");
    if (form) {
      queueFormDraft(form);
    }
  }

  // A submit saves the values itself, so a queued draft must not follow it.
  function dropQueuedDraft(form) {
    if (form && pendingDrafts.has(form)) {
      window.clearTimeout(pendingDrafts.get(form));
      pendingDrafts.delete(form);
    }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    dropQueuedDraft(event.detail.elt);
  });
  document.addEventListener("submit", function (event) {
    dropQueuedDraft(event.target);
  });
  document.addEventListener("input", onStepFormEdit);
  document.addEventListener("change", onStepFormEdit);

  window.addEventListener("pagehide", function () {
    pendingDrafts.forEach(function (timer, form) {
      window.clearTimeout(timer);
      if (navigator.sendBeacon) {
        navigator.sendBeacon(form.getAttribute("data-form-draft"), new FormData(form));
      }
    });
    pendingDrafts.clear();
  });

  // --- Location map ---------------------------------------------------------

  var map = null;
  var marker = null;

  function mapConfig() {
    var element = document.getElementById("counselor-map-config");
    return element ? JSON.parse(element.textContent) : {};
  }

  function setValue(id, value) {
    var input = document.getElementById(id);
    if (input) {
      input.value = value;
    }
  }

  function chooseMethod(method) {
    var radios = document.querySelectorAll('input[name="location-method"]');
    radios.forEach(function (radio) {
      radio.checked = radio.value === method;
    });
  }

  function placeMarker(lat, lon) {
    if (!map) {
      return;
    }
    if (marker) {
      marker.setLatLng([lat, lon]);
    } else {
      marker = window.L.marker([lat, lon], { keyboard: false }).addTo(map);
    }
  }

  function initMap() {
    var element = document.getElementById("location-map");
    if (!element || !window.L || element.dataset.ready === "1") {
      return;
    }
    element.dataset.ready = "1";
    var config = mapConfig();
    var lat = parseFloat(element.dataset.lat);
    var lon = parseFloat(element.dataset.lon);
    var hasPoint = !isNaN(lat) && !isNaN(lon);
    map = window.L.map(element, { keyboard: true, zoomControl: false }).setView(
      hasPoint ? [lat, lon] : [38.5816, -121.4944], hasPoint ? 14 : 10
    );
    // Leaflet's own control titles are English; the server sends them translated.
    window.L.control.zoom({
      zoomInTitle: config.zoom_in_title || "Zoom in",
      zoomOutTitle: config.zoom_out_title || "Zoom out",
    }).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    marker = null;
    if (config.tile_url) {
      window.L.tileLayer(config.tile_url, { attribution: config.attribution || "", maxZoom: 19 }).addTo(map);
    }
    var outlineElement = document.getElementById("counselor-county-outline");
    if (outlineElement) {
      var outline = window.L.polygon(JSON.parse(outlineElement.textContent), {
        color: "#1f4e8c", weight: 2, fill: false, interactive: false,
      }).addTo(map);
      if (!hasPoint) {
        map.fitBounds(outline.getBounds());
      }
    }
    if (hasPoint) {
      placeMarker(lat, lon);
    }
    map.on("click", function (event) {
      var pointLat = event.latlng.lat.toFixed(6);
      var pointLon = event.latlng.lng.toFixed(6);
      placeMarker(pointLat, pointLon);
      setValue("id_location-latitude", pointLat);
      setValue("id_location-longitude", pointLon);
      chooseMethod("map_pin");
      queueFormDraft(document.getElementById("location-form"));
    });
  }

  // Choosing an address result selects the "address" method.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.name === "location-address_id") {
      chooseMethod("address");
      placeMarker(parseFloat(target.dataset.lat), parseFloat(target.dataset.lon));
    } else if (target && (target.id === "id_location-latitude" || target.id === "id_location-longitude")) {
      chooseMethod("coordinates");
    } else if (target && target.id === "id_location-zip_code") {
      chooseMethod("zip");
    } else if (target && target.id === "id_location-unknown_reason" && target.value) {
      chooseMethod("unknown");
    }
  });

  document.addEventListener("DOMContentLoaded", initMap);
  document.addEventListener("htmx:afterSettle", initMap);
})();

// Live status of the contact's incidents: live.js emits "live-incident"
// for every incident event the counselor group hears. The mobile-response
// section lists its incident ids in data-incident-ids and re-fetches itself
// when one of them changes, or after a reconnect, when events may be lost.
(function () {
  "use strict";

  function refreshResponsePanel(incidentId) {
    var panel = document.getElementById("response-panel");
    if (!panel || !window.htmx) {
      return;
    }
    var ids = (panel.getAttribute("data-incident-ids") || "").split(" ");
    if (incidentId === null || ids.indexOf(String(incidentId)) !== -1) {
      window.htmx.trigger(panel, "incident-changed");
    }
  }

  document.addEventListener("live-incident", function (event) {
    refreshResponsePanel(event.detail.payload.id);
  });
  document.addEventListener("live-resync", function () {
    refreshResponsePanel(null);
  });
})();

// Team phone app: add the browser's position to status taps and check-ins
// where the browser allows it. The position is optional: a refusal, an
// error or a slow fix sends the form without one.
(function () {
  "use strict";

  // Maximum wait for a position fix before the form goes without one.
  var FIX_TIMEOUT_MS = 3000;
  var lastPosition = null;

  function fill(form, position) {
    var lat = form.querySelector('input[name="latitude"]');
    var lon = form.querySelector('input[name="longitude"]');
    if (lat && lon && position) {
      lat.value = position.coords.latitude.toFixed(6);
      lon.value = position.coords.longitude.toFixed(6);
    }
  }

  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-geolocate")) {
      return;
    }
    // The emergency alert never waits: it takes the last known position.
    if (form.getAttribute("data-geolocate") === "cached" || !navigator.geolocation) {
      fill(form, lastPosition);
      return;
    }
    event.preventDefault();
    var sent = false;
    function send() {
      if (!sent) {
        sent = true;
        event.detail.issueRequest(true);
      }
    }
    var timer = window.setTimeout(send, FIX_TIMEOUT_MS + 200);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        lastPosition = position;
        fill(form, position);
        window.clearTimeout(timer);
        send();
      },
      function () {
        window.clearTimeout(timer);
        send();
      },
      { enableHighAccuracy: true, timeout: FIX_TIMEOUT_MS, maximumAge: 30000 }
    );
  });
})();

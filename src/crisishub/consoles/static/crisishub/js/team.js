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

// Check-in prompt: counts the minutes to the next on-scene check-in, and
// past it, from the due time the server rendered in data-checkin-due. The
// panel re-renders after every check-in, which moves the due time.
(function () {
  "use strict";

  var REFRESH_MS = 15000;

  function twoDigits(value) {
    return (value < 10 ? "0" : "") + value;
  }

  function updatePrompt() {
    var prompt = document.getElementById("checkin-prompt");
    if (!prompt) {
      return;
    }
    var due = new Date(prompt.getAttribute("data-checkin-due"));
    if (isNaN(due.getTime())) {
      return;
    }
    var seconds = (due.getTime() - Date.now()) / 1000;
    var time = twoDigits(due.getHours()) + ":" + twoDigits(due.getMinutes());
    var template;
    var minutes;
    if (seconds > 60) {
      template = prompt.getAttribute("data-text-due");
      minutes = Math.ceil(seconds / 60);
    } else if (seconds > 0) {
      template = prompt.getAttribute("data-text-due-now");
      minutes = 0;
    } else {
      template = prompt.getAttribute("data-text-overdue");
      minutes = Math.floor(-seconds / 60);
    }
    var overdue = seconds <= 0;
    prompt.classList.toggle("checkin-prompt--overdue", overdue);
    prompt.classList.toggle("banner--danger", overdue);
    prompt.classList.toggle("banner--warning", !overdue);
    prompt.textContent = template.replace("{minutes}", String(minutes)).replace("{time}", time);
  }

  document.addEventListener("DOMContentLoaded", updatePrompt);
  document.addEventListener("htmx:afterSettle", updatePrompt);
  window.setInterval(updatePrompt, REFRESH_MS);
})();

// Live updates for any console page, over the /ws/live/ WebSocket (Django
// Channels, see consoles/consumers.py for the event names and groups).
//
// Each server message {"event": name, "payload": {...}} is dispatched on
// document.body as DOM events, so a page script, or htmx with
// hx-trigger="live-incident from:body", can react:
//   live-event     every hub event, detail = {event, payload}
//   live-incident  events whose name starts with "incident."
//   live-team      events whose name starts with "team."
//   live-resync    after a reconnect. Events sent while the socket was
//                  closed are lost, so a page re-fetches what it shows.
// The socket state is kept in <body data-live-state> ("connecting",
// "open", "closed", "signed-out") and shown in #live-status when the page
// has one. The socket reconnects with a growing delay of 0.5 to 10 s.
(function () {
  "use strict";

  var RETRY_MIN_MS = 500;
  var RETRY_MAX_MS = 10000;
  // A ping every 25 s keeps proxies from closing an idle socket.
  var PING_INTERVAL_MS = 25000;
  // Close codes sent by the consumer (consumers.py).
  var CLOSE_UNAUTHENTICATED = 4401;
  var CLOSE_FORBIDDEN = 4403;

  var socket = null;
  var retryMs = RETRY_MIN_MS;
  var everOpened = false;
  var pingTimer = null;

  var live = {
    state: "connecting",
    received: 0,
    lastEvent: null,
  };
  window.crisishubLive = live;

  function setState(state) {
    live.state = state;
    document.body.setAttribute("data-live-state", state);
    var status = document.getElementById("live-status");
    if (!status) {
      return;
    }
    status.setAttribute("data-state", state);
    var text = status.getAttribute("data-text-" + state);
    if (text) {
      status.textContent = text;
    }
  }

  function emit(name, detail) {
    document.body.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail }));
  }

  function handleMessage(message) {
    var data;
    try {
      data = JSON.parse(message.data);
    } catch (error) {
      console.error("Invalid live message", message.data);
      return;
    }
    if (data.event === "hello") {
      setState("open");
      retryMs = RETRY_MIN_MS;
      if (everOpened) {
        emit("live-resync", {});
      }
      everOpened = true;
      return;
    }
    if (data.event === "pong") {
      return;
    }
    live.received += 1;
    live.lastEvent = data;
    var detail = { event: data.event, payload: data.payload || {} };
    emit("live-event", detail);
    if (data.event.indexOf("incident.") === 0) {
      emit("live-incident", detail);
    } else if (data.event.indexOf("team.") === 0) {
      emit("live-team", detail);
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    setState("connecting");
    socket = new WebSocket(scheme + window.location.host + "/ws/live/");
    socket.addEventListener("message", handleMessage);
    socket.addEventListener("close", function (event) {
      window.clearInterval(pingTimer);
      if (event.code === CLOSE_UNAUTHENTICATED) {
        // The session expired: reloading leads to the sign-in page.
        setState("signed-out");
        window.location.reload();
        return;
      }
      if (event.code === CLOSE_FORBIDDEN) {
        setState("closed");
        return;
      }
      setState("closed");
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    });
    socket.addEventListener("open", function () {
      pingTimer = window.setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ event: "ping" }));
        }
      }, PING_INTERVAL_MS);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();

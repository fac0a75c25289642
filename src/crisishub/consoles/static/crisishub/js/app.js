// Shared behaviour for every console page: focus on error summaries, and
// the "saving / saved / not saved" state of autosaved forms.
(function () {
  "use strict";

  function focusErrorSummary(root) {
    var summary = (root || document).querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  function setSaveStatus(form, state) {
    if (!form) {
      return;
    }
    var status = form.querySelector("[data-save-status]");
    if (!status) {
      return;
    }
    var text = status.getAttribute("data-text-" + state);
    if (text) {
      status.textContent = text;
    }
    status.setAttribute("data-state", state);
  }

  function autosaveForm(event) {
    var element = event.detail && event.detail.elt;
    if (!element || !element.closest) {
      return null;
    }
    return element.closest("[data-autosave]");
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary(document);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    focusErrorSummary(event.detail.target);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    setSaveStatus(autosaveForm(event), "saving");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = autosaveForm(event);
    if (form) {
      setSaveStatus(form, event.detail.successful ? "saved" : "failed");
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    setSaveStatus(autosaveForm(event), "offline");
  });

  // Let htmx swap the body of 400 and 409 responses too: those carry the
  // re-rendered form with its errors.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();

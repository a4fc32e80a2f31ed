// Keyboard shortcuts for the review queue. The forms work without this
// script; it only moves a "current" item and presses that item's buttons.
(function () {
  "use strict";

  var current = 0;

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("li.review-item"));
  }

  function select(index) {
    var list = items();
    if (list.length === 0) {
      return null;
    }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (item, position) {
      item.classList.toggle("current", position === current);
    });
    list[current].focus({ preventScroll: false });
    return list[current];
  }

  function press(selector) {
    var item = items()[current];
    var button = item && item.querySelector(selector);
    if (button) {
      button.click();
    }
  }

  function typing(target) {
    var name = target && target.tagName;
    return name === "INPUT" || name === "SELECT" || name === "TEXTAREA";
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var handled = true;
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "c": press("button.confirm"); break;
      case "r": press("button.reject"); break;
      case "x": press("input.select"); break;
      case "a": {
        var item = items()[current];
        var choice = item && item.querySelector("form.reassign select");
        if (choice) { choice.focus(); }
        break;
      }
      default: handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
  });

  // After htmx replaces the queue, keep the same position in the new list.
  document.addEventListener("htmx:afterSettle", function () {
    select(current);
  });
  document.addEventListener("DOMContentLoaded", function () {
    select(0);
  });
})();

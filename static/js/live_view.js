// Live view and playback images (<img data-live-stream>): the stream holds one of the person's
// stream slots and a connection to the camera, so it is stopped while the tab is hidden and
// when the page is left (also into the back/forward cache), and started again when it shows.
(function () {
  "use strict";
  function streams() {
    return Array.prototype.slice.call(document.querySelectorAll("img[data-live-stream]"));
  }
  function stop() {
    streams().forEach(function (image) {
      if (!image.dataset.streamSrc) {
        image.dataset.streamSrc = image.getAttribute("src");
      }
      // An empty src makes the browser drop the multipart connection at once.
      image.removeAttribute("src");
    });
  }
  function start() {
    streams().forEach(function (image) {
      if (image.dataset.streamSrc && !image.getAttribute("src")) {
        image.setAttribute("src", image.dataset.streamSrc);
      }
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      stop();
    } else {
      start();
    }
  });
  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      start();
    }
  });
})();

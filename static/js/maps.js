/* Draws the maps of the public pages ({% public_map %}, ksbb/templatetags/public_maps.py), as
 * django-leaflet's own tag would with an inline script: the options come from the page as JSON, so
 * the page carries no script of its own and one copy of it serves every visitor. Each map's
 * callback (window[data-map-callback], defined by the page's script) runs once it is drawn. */
(function () {
  "use strict";

  function draw() {
    var nodes = document.querySelectorAll("[data-map-options]");
    Array.prototype.forEach.call(nodes, function (node) {
      var data = document.getElementById(node.getAttribute("data-map-options"));
      var callback = window[node.getAttribute("data-map-callback")];
      L.Map.djangoMap(node.id, {
        djoptions: JSON.parse(data.textContent),
        globals: false,
        callback: typeof callback === "function" ? callback : null,
      });
    });
  }

  window.addEventListener("load", draw);
})();

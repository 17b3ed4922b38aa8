/* The small map on a need's page: the site's point. django-leaflet calls window.ksbbNeedDetailMap. */
(function () {
  "use strict";
  window.ksbbNeedDetailMap = function (map) {
    var data = document.getElementById("need-detail-data").dataset;
    var point = [parseFloat(data.lat), parseFloat(data.lon)];
    L.circleMarker(point, { radius: 9, color: "#fff", weight: 2, fillColor: "#0b5cad", fillOpacity: 1 }).addTo(map);
    map.setView(point, 15);
  };
})();

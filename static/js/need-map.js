/* The public map of needs: kelurahan boundaries, needs as clustered markers, a popup per need.
 * django-leaflet creates the map and calls window.ksbbNeedMap. Data reaches the page only through
 * textContent, never innerHTML, so a need's title cannot inject markup. */
(function () {
  "use strict";

  var STATUS_CLASS = /^[a-z_]+$/;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fetchJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) throw new Error(response.status + " " + url);
      return response.json();
    });
  }

  function pin(status) {
    var safe = STATUS_CLASS.test(status) ? status : "open";
    return L.divIcon({
      className: "need-pin status-" + safe,
      iconSize: [18, 18],
      iconAnchor: [9, 9],
      popupAnchor: [0, -9],
    });
  }

  function popupContent(feature, labels) {
    var p = feature.properties;
    var box = el("div", "need-popup");
    box.appendChild(el("strong", "need-popup-title", p.title));
    box.appendChild(el("div", "need-popup-place", p.site + ", " + p.kelurahan + ", " + p.kota));
    box.appendChild(el("div", "need-popup-kind", p.category_name + " · " + p.aid_type));
    box.appendChild(
      el("div", "need-popup-remaining",
        p.quantity_remaining + " " + labels.of + " " + p.quantity_needed + " " + p.unit + " " + labels.remaining)
    );
    if (p.freshness && p.freshness !== "confirmed") box.appendChild(el("div", "need-popup-note", p.freshness_display));
    if (p.location_is_approximate) box.appendChild(el("div", "need-popup-note", labels.approximate));
    var link = el("a", "need-popup-link", labels.open);
    link.href = p.url;
    box.appendChild(link);
    return box;
  }

  // On a wide screen there is room to show the filters beside the map from the start.
  var filters = document.querySelector(".filters-box");
  if (filters && window.matchMedia("(min-width: 64rem)").matches) filters.open = true;

  // Choosing a kota (or kecamatan) reloads the form so the next list offers only what lies inside
  // it; without JavaScript the same happens on "Apply filters".
  ["id_kota", "id_kecamatan"].forEach(function (id) {
    var select = document.getElementById(id);
    if (!select) return;
    select.addEventListener("change", function () {
      var child = id === "id_kota" ? ["id_kecamatan", "id_kelurahan"] : ["id_kelurahan"];
      child.forEach(function (c) { var el = document.getElementById(c); if (el) el.value = ""; });
      select.form.submit();
    });
  });

  window.ksbbNeedMap = function (map) {
    var data = document.getElementById("need-map-data").dataset;
    var labels = JSON.parse(document.getElementById("map-labels").textContent);
    var container = map.getContainer();
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", document.querySelector(".map-panel").getAttribute("aria-label"));

    fetchJSON(data.boundariesUrl).then(function (geojson) {
      L.geoJSON(geojson, {
        interactive: false,
        style: { color: "#55606b", weight: 1, fillColor: "#dfe7ee", fillOpacity: 0.35 },
      }).addTo(map).bringToBack();
    }).catch(function () { /* the needs stay usable without the boundaries */ });

    var cluster = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 });
    map.addLayer(cluster);

    fetchJSON(data.layerUrl).then(function (geojson) {
      var markers = geojson.features.map(function (feature) {
        var c = feature.geometry.coordinates;
        var marker = L.marker([c[1], c[0]], { icon: pin(feature.properties.status), keyboard: true });
        marker.needId = feature.id;
        marker.bindPopup(el("div", "need-popup", labels.loading));
        marker.on("popupopen", function (event) { showNeed(event.popup, marker.needId); });
        return marker;
      });
      cluster.addLayers(markers);
      container.dataset.markers = String(markers.length);
      if (markers.length) map.fitBounds(cluster.getBounds(), { maxZoom: 15, padding: [20, 20] });
    });

    function showNeed(popup, id) {
      var url = data.detailUrl.replace(/\/0\/$/, "/" + encodeURIComponent(id) + "/");
      fetchJSON(url).then(function (feature) {
        popup.setContent(popupContent(feature, labels));
      }).catch(function () {
        popup.setContent(el("div", "need-popup", labels.failed));
      });
    }
  };
})();

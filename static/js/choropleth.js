/* The transparency page's choropleth: kecamatan shaded by their collaborators. The figures come from
 * the page itself (json_script), the boundaries from the regions API; text reaches the page only
 * through textContent. django-leaflet calls window.ksbbChoropleth. */
(function () {
  "use strict";
  var shades = window.ksbbShades;

  window.ksbbChoropleth = function (map) {
    var figures = JSON.parse(document.getElementById("choropleth-data").textContent);
    var config = document.getElementById("choropleth-config").dataset;
    var breaks = shades.classes(Object.keys(figures).map(function (k) { return figures[k]; }));
    shades.legend(document.getElementById("choropleth-legend"), breaks, config.label, String);
    fetch(config.boundariesUrl, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (geojson) {
        var layer = L.geoJSON(geojson, {
          style: function (feature) {
            var value = figures[feature.properties.code] || 0;
            return { color: "#333", weight: 1, fillColor: shades.colourOf(value, breaks), fillOpacity: 0.85 };
          },
          onEachFeature: function (feature, shape) {
            var box = document.createElement("div");
            var name = document.createElement("strong");
            name.textContent = feature.properties.name;
            box.appendChild(name);
            box.appendChild(document.createTextNode(": " + (figures[feature.properties.code] || 0) + " " + config.label));
            shape.bindTooltip(box);
          },
        }).addTo(map);
        if (layer.getLayers().length) map.fitBounds(layer.getBounds());
        map.getContainer().dataset.shapes = String(layer.getLayers().length);
      });
  };
})();

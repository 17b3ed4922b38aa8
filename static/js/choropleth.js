/* The transparency page's choropleth: kecamatan shaded by their collaborators. The figures come from
 * the page itself (json_script), the boundaries from the regions API; text reaches the page only
 * through textContent. django-leaflet calls window.ksbbChoropleth. */
(function () {
  "use strict";
  var COLOURS = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];

  // Up to five classes of equal width from 0 to the highest value; fewer when the values are small,
  // so no class is empty of meaning. The darkest colour always marks the highest class.
  function classes(values) {
    var max = Math.max.apply(null, values.concat([1]));
    var n = Math.min(COLOURS.length, max);
    var colours = COLOURS.slice(COLOURS.length - n);
    var from = 0;
    return colours.map(function (colour, i) {
      var to = Math.round((max * (i + 1)) / n);
      var range = { from: from, to: to, colour: colour };
      from = to + 1;
      return range;
    });
  }

  function colourOf(value, breaks) {
    for (var i = 0; i < breaks.length; i++) if (value <= breaks[i].to) return breaks[i].colour;
    return breaks[breaks.length - 1].colour;
  }

  window.ksbbChoropleth = function (map) {
    var figures = JSON.parse(document.getElementById("choropleth-data").textContent);
    var config = document.getElementById("choropleth-config").dataset;
    var breaks = classes(Object.keys(figures).map(function (k) { return figures[k]; }));
    var legend = document.getElementById("choropleth-legend");
    breaks.forEach(function (b) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = b.colour;
      item.appendChild(swatch);
      var range = b.from === b.to ? String(b.to) : b.from + "–" + b.to;
      item.appendChild(document.createTextNode(range + " " + config.label));
      legend.appendChild(item);
    });
    fetch(config.boundariesUrl, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (geojson) {
        var layer = L.geoJSON(geojson, {
          style: function (feature) {
            var value = figures[feature.properties.code] || 0;
            return { color: "#333", weight: 1, fillColor: colourOf(value, breaks), fillOpacity: 0.85 };
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

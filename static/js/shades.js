/* The colour classes of the public choropleths (the transparency page's kecamatan, the map's unmet
 * need): up to five classes of equal width from 0 to the highest value; fewer when the values are
 * small, so no class is empty of meaning. The darkest colour always marks the highest class. */
(function () {
  "use strict";
  var COLOURS = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];

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

  // The legend's items, in `list`: a swatch and the range, each number written by `format`.
  function legend(list, breaks, label, format) {
    while (list.firstChild) list.removeChild(list.firstChild);
    breaks.forEach(function (b) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = b.colour;
      item.appendChild(swatch);
      var range = b.from === b.to ? format(b.to) : format(b.from) + "–" + format(b.to);
      item.appendChild(document.createTextNode(range + " " + label));
      list.appendChild(item);
    });
  }

  window.ksbbShades = { classes: classes, colourOf: colourOf, legend: legend };
})();

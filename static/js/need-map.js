/* The public map of needs: kelurahan boundaries, needs as clustered markers with a popup per need,
 * or the kelurahan shaded by their unmet need (needs.coverage), a popup listing an area's least
 * covered needs. The boundaries come from the portal itself, so the map keeps its places with no
 * tile (offline, or tiles down). django-leaflet creates the map and calls window.ksbbNeedMap. Data
 * reaches the page only through textContent, never innerHTML, so a need's title cannot inject
 * markup. */
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

  // "Closest to me": the browser's location, asked only on this tap, rounded to about a kilometre
  // (needs.filters.NEAR_DECIMALS) and sent once in the list's address; nothing keeps it.
  var closest = document.getElementById("closest");
  var form = document.querySelector("form.filters");
  if (closest && form && form.elements.near && navigator.geolocation) {
    closest.hidden = false;
    closest.addEventListener("click", function () {
      var error = document.getElementById("closest-error");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          form.elements.near.value =
            position.coords.longitude.toFixed(2) + "," + position.coords.latitude.toFixed(2);
          form.elements.sort.value = "closest";
          if (form.elements.page) form.elements.page.value = "";
          form.submit();
        },
        function () {
          var labels = JSON.parse(document.getElementById("map-labels").textContent);
          error.textContent = labels.no_location;
          error.hidden = false;
        },
        { maximumAge: 600000, timeout: 20000 }
      );
    });
  }

  function numbers(value) {
    return new Intl.NumberFormat(document.documentElement.lang || "id").format(value);
  }

  // An area's popup: its figures and its least covered needs, built whole before it is shown, so
  // nothing moves under the donor's finger while the list arrives.
  function areaPopup(feature, area, labels, data) {
    var box = el("div", "area-popup");
    box.appendChild(el("strong", "area-popup-title", feature.properties.name));
    var figures = area
      ? numbers(area.needs_open) + " " + labels.needs_open + " · " +
        numbers(area.beneficiaries_uncovered) + " " + labels.people + " · " +
        numbers(area.value_uncovered) + " " + labels.rupiah
      : labels.no_needs;
    box.appendChild(el("div", "area-popup-figures", figures));
    if (!area || !area.needs_open) return Promise.resolve(box);
    // An RW's needs are its kelurahan's list; the list is not cut by RW, so it is not shown here.
    var kelurahan = area.kelurahan_code || area.code;
    if (area.kelurahan_code) return Promise.resolve(seeAll(box, kelurahan, labels.see_kelurahan));
    var url = new URL(data.listUrl, window.location.href);
    url.searchParams.set("kelurahan", kelurahan);
    url.searchParams.set("sort", "least_covered");
    url.searchParams.set("page_size", "5");
    var list = el("ul", "area-popup-needs");
    return fetchJSON(url.href).then(function (page) {
      page.features.forEach(function (need) {
        var p = need.properties;
        var item = el("li");
        var link = el("a", null, p.title);
        link.href = p.url;
        item.appendChild(link);
        item.appendChild(el("span", "area-popup-remaining",
          " · " + numbers(p.quantity_remaining) + " " + labels.of + " " + numbers(p.quantity_needed) + " " + p.unit + " " + labels.remaining));
        list.appendChild(item);
      });
    }).catch(function () {
      list.appendChild(el("li", null, labels.failed));
    }).then(function () {
      box.appendChild(list);
      return seeAll(box, kelurahan, labels.see_all);
    });

    function seeAll(box, code, text) {
      var all = el("a", "area-popup-link", text);
      var here = new URL(data.pageUrl, window.location.href);
      here.searchParams.set("kelurahan", code);
      here.searchParams.set("sort", "least_covered");
      here.hash = "list-title";
      all.href = here.href;
      box.appendChild(all);
      return box;
    }
  }

  window.ksbbNeedMap = function (map) {
    var data = document.getElementById("need-map-data").dataset;
    var labels = JSON.parse(document.getElementById("map-labels").textContent);
    var container = map.getContainer();
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", document.querySelector(".map-panel").getAttribute("aria-label"));

    var boundaries = fetchJSON(data.boundariesUrl);
    boundaries.then(function (geojson) {
      L.geoJSON(geojson, {
        interactive: false,
        style: { color: "#55606b", weight: 1, fillColor: "#dfe7ee", fillOpacity: 0.35 },
      }).addTo(map).bringToBack();
    }).catch(function () { /* the needs stay usable without the boundaries */ });

    // Usable: the first needs (their markers, or their counts) are drawn; the list came with the
    // page. For whoever measures it (bench/slow_map.py) and waits on it.
    function usable() {
      if (container.dataset.usable) return;
      if (window.performance && performance.mark) performance.mark("map-usable");
      container.dataset.usable = String(Math.round(window.performance ? performance.now() : 0));
    }

    var cluster = L.markerClusterGroup({
      chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50,
      // Drawn once the last chunk is clustered (markercluster adds them right after this call; its
      // own call with nothing, when the group joins the map, draws nothing).
      chunkProgress: function (done, total) { if (total && done === total) setTimeout(usable, 0); },
    });
    // What "Needs" shows: the markers, or first, for a large layer, their counts (needs.summary).
    var points = cluster;
    var layer = null;
    var detailZoom = Number(data.detailZoom) || 14;

    function loadLayer(fit) {
      layer = layer || fetchJSON(data.layerUrl).then(function (geojson) {
        var markers = geojson.features.map(function (feature) {
          var c = feature.geometry.coordinates;
          var status = feature.properties.status;
          // Its name for a screen reader and a tooltip: the marker is a button.
          var title = (labels.statuses[status] || "") + " · " + labels.open;
          var marker = L.marker([c[1], c[0]], { icon: pin(status), keyboard: true, title: title });
          marker.needId = feature.id;
          marker.bindPopup(el("div", "need-popup", labels.loading));
          marker.on("popupopen", function (event) { showNeed(event.popup, marker.needId); });
          return marker;
        });
        if (points !== cluster) {
          // The counts give way to the needs, where the donor is looking.
          var shown = map.hasLayer(points);
          if (shown) map.removeLayer(points);
          points = cluster;
          if (shown) map.addLayer(cluster);
        }
        cluster.addLayers(markers);
        if (!markers.length || !map.hasLayer(cluster)) usable();
        container.dataset.markers = String(markers.length);
        if (fit && markers.length) map.fitBounds(cluster.getBounds(), { maxZoom: 15, padding: [20, 20] });
      });
      return layer;
    }

    // A count's bubble, in markercluster's own style; its number as text in nodes of its own.
    var CountIcon = L.DivIcon.extend({
      createIcon: function (oldIcon) {
        var div = L.DivIcon.prototype.createIcon.call(this, oldIcon);
        var inner = el("div");
        inner.appendChild(el("span", null, numbers(this.options.count)));
        div.appendChild(inner);
        return div;
      },
    });

    function bubble(count) {
      var size = count < 100 ? "small" : count < 1000 ? "medium" : "large";
      return new CountIcon({ count: count, className: "marker-cluster marker-cluster-" + size + " need-count", iconSize: [40, 40] });
    }

    var summaryNode = document.getElementById("map-summary");
    if (summaryNode) {
      // A large layer: its counts per kelurahan first, drawn at once from the page itself, and
      // merged as the donor zooms out; the needs themselves once the donor zooms in to them.
      var summary = JSON.parse(summaryNode.textContent);
      var counts = L.markerClusterGroup({
        showCoverageOnHover: false,
        maxClusterRadius: 60,
        iconCreateFunction: function (group) {
          return bubble(group.getAllChildMarkers().reduce(function (sum, m) { return sum + m.count; }, 0));
        },
      });
      counts.addLayers(summary.areas.map(function (area) {
        var marker = L.marker([area[1], area[0]], {
          icon: bubble(area[2]), keyboard: true, title: numbers(area[2]) + " " + labels.summary,
        });
        marker.count = area[2];
        marker.on("click", function () { map.setView(marker.getLatLng(), detailZoom); });
        return marker;
      }));
      points = counts;
      map.addLayer(counts);
      container.dataset.summary = String(summary.total);
      if (summary.areas.length) map.fitBounds(counts.getBounds(), { maxZoom: 15, padding: [20, 20], animate: false });
      usable();
      map.on("zoomend", function () { if (map.getZoom() >= detailZoom) loadLayer(false); });
      if (map.getZoom() >= detailZoom) loadLayer(false);
    } else {
      map.addLayer(cluster);
      loadLayer(true);
    }

    // "Unmet need by kelurahan": switched with the markers, shaded by the chosen measure.
    var view = document.getElementById("map-view");
    var measureBox = view.querySelector(".map-measure");
    var measure = document.getElementById("map-measure");
    var statusLegend = document.getElementById("status-legend");
    var coverageLegend = document.getElementById("coverage-legend");
    var coverage = null;
    var shaded = null;
    var fitted = false;
    view.hidden = false;

    // Zoomed in this far, and where RW boundaries are loaded, the shading is per RW.
    var RW_ZOOM = 14;
    var rwCoverage = null;
    var levelNote = document.getElementById("coverage-level");

    function currentLevel() {
      return data.rwCoverageUrl && map.getZoom() >= RW_ZOOM ? "rw" : "kelurahan";
    }

    // The shapes and the figures of a level: the kelurahan's boundaries come with the map; an
    // RW's outline comes with its figures, and only RWs with a matching need are sent.
    function unmetData(level) {
      if (level === "rw") {
        rwCoverage = rwCoverage || fetchJSON(data.rwCoverageUrl).then(function (body) {
          var features = body.areas.filter(function (a) { return a.geometry; }).map(function (a) {
            return { type: "Feature", geometry: a.geometry, properties: { code: a.code, name: a.name + ", " + a.kelurahan } };
          });
          return { geojson: { type: "FeatureCollection", features: features }, areas: body.areas };
        });
        return rwCoverage;
      }
      coverage = coverage || fetchJSON(data.coverageUrl);
      return Promise.all([boundaries, coverage]).then(function (both) {
        return { geojson: both[0], areas: both[1].areas };
      });
    }

    function showUnmet() {
      map.removeLayer(points);
      statusLegend.hidden = true;
      coverageLegend.hidden = false;
      measureBox.hidden = false;
      var level = currentLevel();
      unmetData(level).then(function (found) {
        // The donor may have gone back to the markers while the figures were on their way.
        if (view.querySelector("input[name=map-view]:checked").value !== "unmet") return;
        shade(found.geojson, found.areas, level);
      }).catch(function () {
        container.dataset.areas = "failed";
      });
    }

    map.on("zoomend", function () {
      if (shaded && currentLevel() !== container.dataset.level) showUnmet();
    });
    // Once the map has settled after a zoom (its last event), for whoever waits on it.
    map.on("moveend", function () { container.dataset.zoom = String(map.getZoom()); });

    function showMarkers() {
      if (shaded) map.removeLayer(shaded);
      shaded = null;
      map.addLayer(points);
      statusLegend.hidden = false;
      coverageLegend.hidden = true;
      measureBox.hidden = true;
      levelNote.hidden = true;
      delete container.dataset.areas;
      delete container.dataset.level;
    }

    function shade(geojson, areas, level) {
      var key = measure.value;
      levelNote.textContent = level === "rw"
        ? labels.per_rw
        : labels.per_kelurahan + (data.rwCoverageUrl ? " " + labels.zoom_for_rw : "");
      levelNote.hidden = false;
      var byCode = {};
      areas.forEach(function (area) { byCode[area.code] = area; });
      var breaks = window.ksbbShades.classes(areas.map(function (a) { return a[key]; }));
      var label = key === "value_uncovered" ? labels.rupiah : labels.people;
      window.ksbbShades.legend(coverageLegend, breaks, label, numbers);
      if (shaded) map.removeLayer(shaded);
      var matched = 0;
      shaded = L.geoJSON(geojson, {
        style: function (feature) {
          var area = byCode[feature.properties.code];
          return area
            ? { color: "#333", weight: 1, fillColor: window.ksbbShades.colourOf(area[key], breaks), fillOpacity: 0.8 }
            : { color: "#55606b", weight: 1, fillColor: "#ffffff", fillOpacity: 0.3 };
        },
        onEachFeature: function (feature, shape) {
          var area = byCode[feature.properties.code];
          if (area) matched += 1;
          var tip = el("div", null, feature.properties.name + ": " + numbers(area ? area[key] : 0) + " " + label);
          shape.bindTooltip(tip);
          shape.bindPopup(el("div", "area-popup", labels.loading));
          shape.on("popupopen", function (event) {
            areaPopup(feature, area, labels, data).then(function (box) {
              event.popup.setContent(box);
            });
          });
          shape.on("add", function () {
            var path = shape.getElement && shape.getElement();
            if (path && area) path.setAttribute("data-code", area.code);
          });
        },
      }).addTo(map);
      container.dataset.areas = String(matched);
      container.dataset.level = level;
      usable();
      if (!fitted && matched && level === "kelurahan") {
        // The first time, the places with needs: all of Jakarta's mainland, usually.
        var bounds = L.latLngBounds([]);
        shaded.eachLayer(function (shape) { if (byCode[shape.feature.properties.code]) bounds.extend(shape.getBounds()); });
        map.fitBounds(bounds, { maxZoom: 15, padding: [10, 10], animate: false });
        fitted = true;
      }
    }

    Array.prototype.forEach.call(view.querySelectorAll("input[name=map-view]"), function (radio) {
      radio.addEventListener("change", function () {
        if (radio.checked) (radio.value === "unmet" ? showUnmet : showMarkers)();
      });
    });
    measure.addEventListener("change", showUnmet);

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

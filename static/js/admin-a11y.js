/* The staff pages (templates/admin/base_site.html): on a narrow screen the admin's tables and
 * inline groups scroll sideways; each such region gets the keyboard (tabindex) and a name, so it
 * can be scrolled without a mouse (WCAG 2.1.1; axe-core's scrollable-region-focusable). */
(function () {
  "use strict";

  function name(region) {
    var heading = region.querySelector("h2, caption, legend");
    if (heading && !heading.id) heading.id = "ksbb-scroll-" + Math.random().toString(36).slice(2);
    return heading ? heading.id : null;
  }

  function mark() {
    var regions = document.querySelectorAll(".inline-group, .results, .module");
    Array.prototype.forEach.call(regions, function (region) {
      var scrolls = region.scrollWidth > region.clientWidth + 1;
      var style = window.getComputedStyle(region);
      if (!scrolls || !/(auto|scroll)/.test(style.overflowX) || region.hasAttribute("tabindex")) return;
      region.setAttribute("tabindex", "0");
      region.classList.add("ksbb-scrolls");
      if (!region.getAttribute("role")) region.setAttribute("role", "region");
      var label = name(region);
      if (label) region.setAttribute("aria-labelledby", label);
    });
  }

  window.addEventListener("load", mark);
  window.addEventListener("resize", mark);
})();

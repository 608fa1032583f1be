/* Progressive enhancement only: every feature works without this file. */
(function () {
    "use strict";
    document.documentElement.classList.add("js");

    // Sort and make changes apply at once; a new make clears the model (its list depends on the make).
    document.querySelectorAll("[data-ec-autosubmit], [data-ec-make]").forEach(function (select) {
        select.addEventListener("change", function () {
            var form = select.form;
            if (!form) { return; }
            if (select.hasAttribute("data-ec-make")) {
                var model = form.querySelector("[data-ec-model]");
                if (model) { model.value = ""; }
            }
            form.requestSubmit ? form.requestSubmit() : form.submit();
        });
    });

    // On a phone, start with the filter panel folded unless a filter is in use.
    var panel = document.querySelector("[data-ec-filters]");
    if (panel && window.matchMedia("(max-width: 899px)").matches && !/[?&](?!page=|sort=)[^=&]+=[^&]/.test(location.search)) {
        panel.open = false;
    }

    // Gallery thumbnails scroll the slide strip instead of jumping the page.
    document.querySelectorAll("[data-ec-thumb]").forEach(function (link) {
        link.addEventListener("click", function (event) {
            var target = document.getElementById(link.getAttribute("href").slice(1));
            if (!target) { return; }
            event.preventDefault();
            target.parentElement.scrollTo({ left: target.offsetLeft - target.parentElement.offsetLeft, behavior: "smooth" });
            document.querySelectorAll("[data-ec-thumb]").forEach(function (other) { other.removeAttribute("aria-current"); });
            link.setAttribute("aria-current", "true");
        });
    });
})();

// Long pickers (select[data-filter-label], e.g. time zones): a search box above the list keeps
// the options that contain every typed word (place, region or offset) and chooses the first.
(function () {
  "use strict";

  function normalize(text) {
    return text.toLowerCase().replace(/[_\s/]+/g, " ");
  }

  function attach(select) {
    var input = document.createElement("input");
    input.type = "search";
    input.className = "form-control form-control-sm mb-1";
    input.placeholder = select.dataset.filterLabel;
    input.autocomplete = "off";
    input.setAttribute("aria-label", select.dataset.filterLabel);
    input.setAttribute("aria-controls", select.id);
    select.parentNode.insertBefore(input, select);
    input.addEventListener("input", function () {
      var words = normalize(input.value).split(" ").filter(Boolean);
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var group = option.parentNode.tagName === "OPTGROUP" ? option.parentNode.label : "";
        var text = normalize(option.value + " " + option.text + " " + group);
        var match = words.every(function (word) { return text.indexOf(word) !== -1; });
        option.hidden = !match;
        if (match && first === null) { first = option; }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = !Array.prototype.some.call(group.children, function (option) {
          return !option.hidden;
        });
      });
      if (words.length && first !== null) { first.selected = true; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-filter-label]"), attach);
  });
})();

// A day part that "Add a day part" adds on the event page is numbered after the others of its
// occasion, as the server numbers the empty rows it renders (the copied row would say 1).
"use strict";
document.addEventListener("formset:added", (event) => {
  const formset = event.detail && event.detail.formsetName;
  if (!formset || !formset.endsWith("day_parts")) {
    return;
  }
  const added = event.target.querySelector('input[name$="-number"]');
  if (!added) {
    return;
  }
  let highest = 0;
  for (const input of document.querySelectorAll(`input[name^="${formset}-"][name$="-number"]`)) {
    const row = input.name.slice(formset.length + 1).split("-")[0];
    if (input !== added && /^\d+$/.test(row)) {
      highest = Math.max(highest, Number.parseInt(input.value, 10) || 0);
    }
  }
  added.value = String(highest + 1);
});

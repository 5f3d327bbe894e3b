// Threshold rows show only the fields their rule uses (CSS on data-kind); without this script
// every field stays visible and the server still names what a rule lacks.
document.querySelectorAll("fieldset.threshold select[name$='-kind']").forEach((select) => {
  select.addEventListener("change", () => {
    select.closest("fieldset").dataset.kind = select.value;
  });
});

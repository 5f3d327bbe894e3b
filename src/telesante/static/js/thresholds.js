// Threshold rows show only the fields their rule uses (CSS on data-kind); without this script
// every field stays visible and the server still names what a rule lacks.
document.querySelectorAll("fieldset.threshold select[name$='-kind']").forEach((select) => {
  select.addEventListener("change", () => {
    select.closest("fieldset").dataset.kind = select.value;
  });
});

// The unit beside a threshold's value follows the chosen measure (the server sets it on load).
const units = JSON.parse(document.getElementById("measure-units")?.textContent || "{}");
document.querySelectorAll("fieldset.threshold select[name$='-type']").forEach((select) => {
  select.addEventListener("change", () => {
    const unit = select.closest("fieldset").querySelector(".f-value .unit");
    if (unit) unit.textContent = units[select.value] || "";
  });
});

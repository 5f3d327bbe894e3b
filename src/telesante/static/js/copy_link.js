// "Copier le lien": the Clipboard API where the page is a secure context, otherwise the old
// select-and-copy; either way a visible confirmation (or how to copy by hand).
for (const button of document.querySelectorAll("button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById("copy-status");
  button.addEventListener("click", async () => {
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(field.value);
        copied = true;
      } catch {
        copied = false;
      }
    }
    if (!copied) {
      field.focus();
      field.select();
      copied = document.execCommand("copy");
    }
    status.textContent = copied
      ? gettext("Lien copié")
      : gettext("Copie impossible : le lien est sélectionné, copiez-le avec Ctrl+C (ou un appui long).");
  });
}

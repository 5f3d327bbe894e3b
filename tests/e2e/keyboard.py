"""Moving through a page with the keyboard only, as a person without a mouse does: Tab (or
Shift+Tab) until the element wanted has the focus, each stop checked to show where it is."""

FOCUSED = "(el) => el === document.activeElement"
# A focus indicator: an outline, or a ring drawn as a box shadow; a file field hidden inside
# its label shows it on the label.
RING = """() => {
  const el = document.activeElement;
  if (el === document.body) return true;  // past the last stop, before the first one again
  const shown = el.matches("input[type=file].sr-only") ? el.closest("label") : el;
  const style = getComputedStyle(shown);
  return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) ||
    style.boxShadow !== "none";
}"""
NAME = """() => {
  const el = document.activeElement;
  return [el.tagName, el.id, el.getAttribute("aria-label") || el.textContent.trim().slice(0, 60)];
}"""


def tab_to(page, target, limit: int = 60, backwards: bool = False) -> list:
    """Press Tab until `target` (a locator) has the focus; every element crossed must show its
    focus. Returns the stops crossed (tag, id, name), for a failure's message."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        stops.append(page.evaluate(NAME))
        assert page.evaluate(RING), f"Focus invisible sur {stops[-1]}"
        if target.evaluate(FOCUSED):
            return stops
    raise AssertionError(f"Jamais atteint au clavier en {limit} tabulations : {stops}")

"""Driving a journey with the mouse or with the keyboard alone.

A journey is written once against ``Driver``: ``activate`` presses a
control, ``type_into`` fills a field, ``choose_file`` picks a file. The
mouse driver clicks and fills; the keyboard driver reaches every control
with Tab / Shift+Tab only (``press_tab_until``), checks that the focused
control shows a visible focus indicator, and presses Enter or Space — so a
journey that passes in keyboard mode is proven usable without a pointer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_TABS = 80

# True when the focused element is ``target``; -1 / 1 says which way to go.
_WHERE = """([target]) => {
  const active = document.activeElement;
  if (active === target) return 0;
  if (!active || active === document.body) return 1;
  return target.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_PRECEDING ? 1 : -1;
}"""

_OUTLINE = """(el) => {
  const s = getComputedStyle(el);
  return {style: s.outlineStyle, width: s.outlineWidth, shadow: s.boxShadow};
}"""


def focus_indicator(page: Any) -> dict[str, str]:
    """The focused element's computed outline (style, width) and box shadow."""
    return page.evaluate(f"({_OUTLINE})(document.activeElement)")


def assert_focus_visible(page: Any) -> None:
    outline = focus_indicator(page)
    tag = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    assert outline["style"] != "none" and outline["width"] not in ("0px", ""), (
        f"no visible focus indicator on {tag}: {outline}"
    )


def press_tab_until(
    page: Any,
    predicate: Any,
    max: int = MAX_TABS,  # noqa: A002 - the name the brief gives
    *,
    key: str | None = "Enter",
) -> None:
    """Press Tab (or Shift+Tab when the target lies behind the focus) until
    ``document.activeElement`` matches, check its focus ring, then press ``key``.

    ``predicate`` is a Playwright Locator (the element itself) or a Python
    callable ``(page) -> bool`` evaluated after each step (Tab only).
    ``key=None`` only focuses.
    """
    for _ in range(max):
        if callable(predicate) and not hasattr(predicate, "element_handle"):
            if predicate(page):
                break
            page.keyboard.press("Tab")
            continue
        handle = predicate.element_handle()
        where = page.evaluate(_WHERE, [handle])
        if where == 0:
            break
        page.keyboard.press("Tab" if where > 0 else "Shift+Tab")
    else:
        active = page.evaluate("document.activeElement && document.activeElement.outerHTML")
        raise AssertionError(f"not reached in {max} Tab presses; focus is on {active!r:.200}")
    assert_focus_visible(page)
    if key:
        page.keyboard.press(key)


class Driver:
    """Mouse-and-keyboard: click, fill, set files."""

    keyboard = False

    def __init__(self, page: Any) -> None:
        self.page = page

    def activate(self, target: Any) -> None:
        target.click()

    def type_into(self, target: Any, text: str) -> None:
        target.fill(text)

    def choose_file(self, target: Any, path: Path) -> None:
        target.set_input_files(str(path))

    def expect_download(self, target: Any) -> Any:
        with self.page.expect_download() as info:
            self.activate(target)
        return info.value


class KeyboardDriver(Driver):
    """Keyboard alone: Tab / Shift+Tab to reach, Enter / Space to press, typing to fill."""

    keyboard = True

    def activate(self, target: Any) -> None:
        tag = target.evaluate("el => el.tagName + ':' + (el.type || '')").upper()
        key = "Space" if tag in ("INPUT:CHECKBOX", "INPUT:RADIO") else "Enter"
        press_tab_until(self.page, target, key=key)

    def type_into(self, target: Any, text: str) -> None:
        press_tab_until(self.page, target, key=None)
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.type(text)

    def choose_file(self, target: Any, path: Path) -> None:
        # Space on a focused file input opens the chooser, as for a user.
        with self.page.expect_file_chooser() as chooser:
            press_tab_until(self.page, target, key="Space")
        chooser.value.set_files(str(path))


def driver_for(mode: str, page: Any) -> Driver:
    return KeyboardDriver(page) if mode == "keyboard" else Driver(page)


Check = Callable[[Any], bool]

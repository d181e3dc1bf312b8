"""The lesson page in a real browser: Debian's headless Chromium, driven by selenium.

Each test loads a page from a file:// URL, presses its controls (buttons, slider, keys),
reads what it shows and compares it with the engine's numbers; after each test, no request
may have left the page and the console must hold no error. One browser serves the whole
session. Screenshots go to a temporary folder (printed at the end of the session) to be
looked at. Skipped, saying what is missing, without selenium, Chromium or chromedriver
(Debian's paths, /usr/bin/chromium and /usr/bin/chromedriver, unless CONVCLI_CHROMIUM and
CONVCLI_CHROMEDRIVER name others; nothing is ever downloaded).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from convcli.analysis.gradients import backward_pass
from convcli.analysis.layers import layer_terms
from convcli.analysis.steps import Explanation, explain
from convcli.engine.core import compute
from convcli.engine.geometry import spread_by
from convcli.options import Options
from convcli.render.page import backward_page, embedded, explanation_page, layer_page
from convcli.render.tables import format_cell
from tests.cli.runner import number as read_number

CHROMIUM = os.environ.get("CONVCLI_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CONVCLI_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
#: Documents of the browser's own, whose requests are not the page's.
BROWSER_PAGES = ("chrome://", "chrome-untrusted://", "devtools://")
F, H, H2 = [2, 1, 3, 5, 4], [1, -1], [-1, 2, -1]
BOTH = ("convolution", "correlation")
#: What one step shows, read in one round trip: per section the lit signal cells, the
#: kernel as aligned, the products, the sum line and the current output.
READ_STEP = """
const stepper = arguments[0] == null ? document.querySelector('.stepper')
  : document.querySelectorAll('.stepper')[arguments[0]];
const texts = (root, selector) => Array.from(root.querySelectorAll(selector), n => n.textContent);
return {
  counter: stepper.querySelector('.counter').textContent,
  status: stepper.querySelector('.status').textContent,
  slider: stepper.querySelector('.slider').value,
  sections: Array.from(stepper.querySelectorAll('.op'), op => ({
    signal: texts(op, 'tr.signal td.tap, .grid.signal td.tap'),
    padding: texts(op, 'tr.signal td.tap.pad, .grid.signal td.tap.pad'),
    kernel: texts(op, 'tr.kernel td.tap, .grid.kernel td'),
    products: texts(op, 'tr.products td.tap, .grid.products td'),
    sum: op.querySelector('.sum').textContent,
    current: texts(op, 'td.current'),
    exact: Array.from(op.querySelectorAll('td.current'), n => n.title),
  })),
};
"""


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="convcli-page-shots-"))
    yield folder
    print(f"\npage screenshots: {folder}")


@pytest.fixture(scope="session")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    for path, what in ((CHROMIUM, "Chromium"), (CHROMEDRIVER, "chromedriver")):
        if not os.access(path, os.X_OK):
            pytest.skip(
                f"{what} is not installed at {path} (apt-get install chromium chromium-driver)"
            )
    from selenium.webdriver.chrome.options import Options as ChromeOptions
    from selenium.webdriver.chrome.service import Service

    options = ChromeOptions()
    options.binary_location = (
        CHROMIUM  # with the driver's path too: selenium-manager downloads nothing
    )
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.TemporaryDirectory(prefix="convcli-chromium-")
    options.add_argument(f"--user-data-dir={profile.name}")
    options.add_argument("--window-size=1280,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


@pytest.fixture
def page(browser, tmp_path):
    """Open an HTML page from a file:// URL; afterwards check that it made no request but
    for file: and data: URLs and logged no error."""
    browser.get_log("browser"), browser.get_log("performance")  # drain the last test's
    media(browser)

    def open_page(text: str, name: str = "lesson.html") -> object:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        browser.get(path.as_uri())
        return browser

    yield open_page
    urls = requested(browser)
    assert urls, "the performance log saw no request at all (not even the page's file)"
    assert all(url.startswith(("file:", "data:", "about:")) for url in urls), urls
    assert console_errors(browser) == []


def requested(browser) -> list[str]:
    """The URLs the pages asked for since the last call (the browser's own chrome:// pages,
    such as the new tab page it starts with, left out)."""
    messages = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    return [
        message["params"]["request"]["url"]
        for message in messages
        if message["method"] == "Network.requestWillBeSent"
        and not message["params"].get("documentURL", "").startswith(BROWSER_PAGES)
    ]


def console_errors(browser) -> list[dict]:
    """The errors logged to the console since the last call."""
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_checks_see_a_request_and_a_console_error(browser, tmp_path):
    """What the page fixture checks after each test can fail: a page that asks for a URL
    (a closed local port: nothing leaves the machine) and logs an error is caught."""
    browser.get("about:blank")
    requested(browser), console_errors(browser)
    path = tmp_path / "leaky.html"
    path.write_text(
        '<img src="http://127.0.0.1:9/x.png"><script>console.error("broken")</script>',
        encoding="utf-8",
    )
    browser.get(path.as_uri())
    assert "http://127.0.0.1:9/x.png" in requested(browser)
    assert any("broken" in entry["message"] for entry in console_errors(browser))


def media(
    browser, scheme: str = "light", kind: str = "screen", size: tuple[int, int] | None = None
):
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"media": kind, "features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    if size is None:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    else:
        width, height = size
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )


def press(browser, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(key).perform()


def click(browser, selector: str, stepper: int = 0) -> None:
    browser.find_elements("css selector", ".stepper")[stepper].find_element(
        "css selector", selector
    ).click()


def shown(browser, stepper: int | None = None) -> dict:
    return browser.execute_script(READ_STEP, stepper)


def explanations(signal: object, kernel: object, options: Options = Options()) -> list:
    return [explain(signal, kernel, operation, options) for operation in BOTH]


def assert_step(view: dict, chosen: list[Explanation], number: int) -> None:
    """What the page shows at step ``number`` (counted from the first step written out) is
    what the engine computes there."""
    for section, explanation in zip(view["sections"], chosen):
        position = list(explanation.positions())[number]
        step = explanation.step(position)
        total = format_cell(step.total)
        assert section["signal"] == [format_cell(v) for v in step.values.flat]
        assert len(section["padding"]) == int(step.padding.sum())
        assert section["kernel"] == [format_cell(v) for v in step.weights.flat]
        assert section["products"] == [format_cell(v) for v in step.products.flat]
        assert section["sum"].endswith(f"= {total}")
        assert section["current"] == [total]
        (title,) = section["exact"]  # the exact value, where the shown one may be rounded
        assert read_number(title.removeprefix("exactly ") if title else total) == step.total
        assert f"{position[0]}" in section["sum"].split("]")[0]
    first = chosen[0].steps.start
    count = len(list(chosen[0].positions()))
    ranged = " written out" if count < chosen[0].output.size else ""
    assert view["counter"] == f"Step {first + number} ({number + 1} of {count}{ranged})"
    assert view["status"].startswith(view["counter"])
    assert int(view["slider"]) == number


def test_the_worked_example_steps_by_buttons_keys_and_slider(page, screenshots):
    chosen = explanations(F, H)
    browser = page(explanation_page(chosen))
    assert_step(shown(browser), chosen, 0)
    click(browser, "button.next")
    assert_step(shown(browser), chosen, 1)
    browser.save_screenshot(str(screenshots / "worked-example.png"))
    press(browser, "\ue014")  # right arrow (the focus is on the page, not a field)
    assert_step(shown(browser), chosen, 2)
    press(browser, "\ue012")  # left arrow
    assert_step(shown(browser), chosen, 1)
    press(browser, "\ue010")  # End
    assert_step(shown(browser), chosen, 3)
    assert browser.find_element("css selector", "button.next").get_attribute("disabled")
    press(browser, "\ue011")  # Home
    assert_step(shown(browser), chosen, 0)
    click(browser, "button.last")
    click(browser, "button.back")
    assert_step(shown(browser), chosen, 2)
    click(browser, "button.first")
    assert_step(shown(browser), chosen, 0)
    slider = browser.find_element("css selector", ".slider")
    slider.send_keys("\ue014")  # the slider's own arrow keys move it, and the steps with it
    assert_step(shown(browser), chosen, 1)
    browser.execute_script(
        "arguments[0].value = 3; arguments[0].dispatchEvent(new Event('input'))", slider
    )
    assert_step(shown(browser), chosen, 3)


def test_every_control_has_a_name_and_the_step_is_announced(page):
    browser = page(explanation_page(explanations(F, H2)))
    unnamed = browser.execute_script(
        "return Array.from(document.querySelectorAll('button, input, select'))"
        ".filter(n => !(n.getAttribute('aria-label') || '').trim()).map(n => n.outerHTML)"
    )
    assert unnamed == []
    status = browser.find_element("css selector", ".status")
    assert status.get_attribute("aria-live") == "polite"
    click(browser, "button.next")
    assert status.get_attribute("textContent").startswith(
        "Step 1 (2 of 3): g[1] = (-1)\u00d71 + 2\u00d73 + (-1)\u00d75 = "
    )


def test_play_runs_to_the_end_and_space_pauses(page):
    chosen = explanations(list(range(12)), H2)
    browser = page(explanation_page(chosen))
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("css selector", "select")).select_by_value("30")
    play = browser.find_element("css selector", "button.play")
    browser.execute_script("document.activeElement.blur()")  # a focused list takes its own keys
    press(browser, " ")
    assert play.get_attribute("aria-pressed") == "true"
    status = browser.find_element("css selector", ".status")
    assert status.get_attribute("aria-live") == "off"  # quiet while playing
    deadline = time.monotonic() + 5
    while play.get_attribute("aria-pressed") == "true" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert play.get_attribute("aria-pressed") == "false"  # stopped by itself at the end
    assert status.get_attribute("aria-live") == "polite"
    assert_step(shown(browser), chosen, 9)
    press(browser, " ")  # from the end, play starts over
    press(browser, " ")
    paused_at = int(shown(browser)["slider"])
    time.sleep(0.2)
    assert int(shown(browser)["slider"]) == paused_at < 9
    assert play.get_attribute("aria-pressed") == "false"


@pytest.mark.parametrize(
    ("name", "signal", "kernel", "options"),
    [
        (
            "stride-dilation",
            list(range(11)),
            [1, 2, 0],
            Options.parse(padding=3, stride=2, dilation=2),
        ),
        ("reflect", F, H2, Options.parse(padding="same", pad_mode="reflect")),
        ("symmetric", F, H2, Options.parse(padding="1:2", pad_mode="symmetric")),
        ("replicate", F, H2, Options.parse(padding=2, pad_mode="replicate")),
        ("circular", F, H2, Options.parse(padding="full", pad_mode="circular")),
        ("constant", F, H2, Options.parse(padding=2, pad_mode="constant", pad_value=7)),
        ("complex", [1 + 1j, 2, 3 - 1j, 4, 5], [1j, 2], Options.parse(padding="full")),
        ("floats", [0.1, 0.2, 0.3, 1 / 3], [1 / 7, 2.5], Options.parse(padding="same")),
        ("2-D", np.arange(20).reshape(4, 5), [[1, 0], [0, -1]], Options.parse(padding="same")),
        (
            "2-D strided",
            np.arange(42).reshape(6, 7),
            [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
            Options.parse(padding=1, stride=2, pad_mode="reflect"),
        ),
    ],
)
def test_every_step_shows_the_engines_numbers(page, screenshots, name, signal, kernel, options):
    chosen = explanations(signal, kernel, options)
    browser = page(explanation_page(chosen))
    count = chosen[0].count
    for number in range(count):
        if number:
            press(browser, "\ue014")
        assert_step(shown(browser), chosen, number)
    browser.save_screenshot(str(screenshots / f"{name}.png"))


def test_a_range_of_steps_is_what_the_page_steps_through(page):
    chosen = [explanation.only(40, 45) for explanation in explanations(list(range(100)), H2)]
    browser = page(explanation_page(chosen))
    view = shown(browser)
    assert view["counter"] == "Step 40 (1 of 5 written out)"  # numbered as --steps 40:45 counts
    assert_step(view, chosen, 0)
    press(browser, "\ue010")
    assert_step(shown(browser), chosen, 4)
    browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    headings, starts = browser.execute_script(
        "return [Array.from(document.querySelectorAll('#print h3'), n => n.textContent),"
        " Array.from(document.querySelectorAll('#print ol'), n => n.start)]"
    )
    assert starts == [40, 40]
    assert all(heading.endswith("(steps 40 to 44 of 0 to 97)") for heading in headings), headings


def test_the_backward_page_steps_each_gradient_apart(page, screenshots):
    gradients = backward_pass(
        [2, 1, 3, 5, 4, 6, 7], [1, -1, 2], None, "corr", Options.parse(stride=2, padding=1)
    )
    browser = page(backward_page(gradients))
    assert len(browser.find_elements("css selector", ".stepper")) == 3
    click(browser, "button.last", stepper=1)  # dL/dp, the last cell
    full = compute(
        spread_by(gradients.upstream, (2,)),
        gradients.kernel,
        "convolution",
        Options(padding="full"),
    )
    assert shown(browser, 1)["sections"][0]["current"] == [format_cell(full.values[-1])]
    press(browser, "\ue011")  # Home: the keys follow the stepper last used
    assert shown(browser, 1)["slider"] == "0"
    assert shown(browser, 0)["slider"] == "0"
    click(browser, "button.last", stepper=2)
    grad_w = [format_cell(v) for v in gradients.grad_kernel]
    assert shown(browser, 2)["sections"][0]["current"] == [grad_w[-1]]
    result = browser.find_elements("css selector", ".result")[1]
    assert [n.text for n in result.find_elements("css selector", ".num")] == grad_w
    browser.save_screenshot(str(screenshots / "backward.png"))
    assert len(printed(browser)) == gradients.output.size + 9 + gradients.kernel.size


def test_the_layer_page_steps_each_channels_window_and_the_cells_sum(page, screenshots):
    terms = layer_terms(
        [[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]], [[[1, -1], [1, 1]], [[2, 0], [0, 1]]], [10, -1]
    )
    browser = page(layer_page(terms))
    assert len(browser.find_elements("css selector", ".stepper")) == 2  # y[0,0] and y[0,1]
    lines = []
    for out in range(2):
        for position in range(terms.output.shape[2]):
            if position:
                click(browser, ".next", out)
            total = browser.find_elements("css selector", ".sum.total")[out].text
            sums = [format_cell(v) for v in terms.terms[0, out, :, position]]
            words = " + ".join(f"({t})" if t.startswith("-") else t for t in sums)
            bias = format_cell(terms.bias[out])
            bias = f"({bias})" if bias.startswith("-") else bias
            value = format_cell(terms.output[0, out, position])
            assert total == f"y[0,{out},{position}] = {bias} + {words} = {value}"
            view = shown(browser, out)
            assert [section["sum"].rsplit(" = ", 1)[1] for section in view["sections"]] == sums
            lines.append(total)
    browser.save_screenshot(str(screenshots / "layer.png"))
    assert printed(browser)[-4:] == lines[-4:]  # y[0,1]'s cells, after its windows' steps


def test_the_transposed_layer_page_shows_each_cell_as_its_sum(page, screenshots):
    terms = layer_terms([[[1, 2, 3], [0, 1, 0]]], [[[1, -1]], [[2, 1]]], [10], transposed=True)
    browser = page(layer_page(terms))
    for number, cell in enumerate(np.ndindex(terms.output.shape)):
        if number:
            press(browser, "\ue014")
        values = browser.execute_script(
            "return Array.from(document.querySelectorAll('.terms td'), n => n.textContent)"
        )
        window_sums = [format_cell(v) for v in terms.terms[cell[0], cell[1], :, cell[2]]]
        assert values == [
            format_cell(terms.bias[cell[1]]),
            *window_sums,
            format_cell(terms.output[cell]),
        ]
    browser.save_screenshot(str(screenshots / "layer-transposed.png"))
    assert len(printed(browser)) == terms.output.size


def _luminance(colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", colour)[:3])
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_projector_size_large_type_and_contrast_in_both_schemes(page, browser, screenshots, scheme):
    open_page = page
    open_page(explanation_page(explanations(F, H)))
    media(browser, scheme, size=(1280, 720))
    browser.refresh()
    click(browser, "button.next")
    styles = browser.execute_script(
        """
        const style = (selector) => getComputedStyle(document.querySelector(selector));
        return {
          body: [style('body').color, style('body').backgroundColor],
          current: [style('td.current').color, style('td.current').backgroundColor],
          sum: parseFloat(style('.sum').fontSize),
          cell: parseFloat(style('tr.signal td').fontSize),
          overflow: document.documentElement.scrollWidth - window.innerWidth,
          controls: document.querySelector('.controls').getBoundingClientRect().bottom,
        };
        """
    )
    assert (_luminance(styles["body"][1]) > 0.5) == (scheme == "light")
    assert _contrast(*styles["body"]) >= 7
    assert _contrast(*styles["current"]) >= 4.5
    assert styles["sum"] >= 18 and styles["cell"] >= 18  # readable from the back of a room
    assert styles["overflow"] <= 0  # no sideways scrolling
    assert styles["controls"] <= 720  # the controls on the first screen
    browser.save_screenshot(str(screenshots / f"projector-{scheme}.png"))


def printed(browser) -> list[str]:
    """The lines the page lays out for printing (every step of every part)."""
    browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    lines = browser.execute_script(
        "return Array.from(document.querySelectorAll('#print li'), n => n.textContent)"
    )
    browser.execute_script("window.dispatchEvent(new Event('afterprint'))")
    return lines


def test_printing_lays_out_every_step(page, browser, screenshots):
    chosen = explanations(F, H2)
    open_page = page
    open_page(explanation_page(chosen))
    media(browser, kind="print")
    browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    lines = browser.execute_script(
        "return Array.from(document.querySelectorAll('#print li'), n => n.textContent)"
    )
    assert len(lines) == sum(explanation.count for explanation in chosen)
    totals = [format_cell(v) for explanation in chosen for v in explanation.output]
    assert [line.rsplit("= ", 1)[1] for line in lines] == totals
    hidden = browser.execute_script(
        "return [getComputedStyle(document.querySelector('.controls')).display,"
        " document.querySelector('#print').getBoundingClientRect().height]"
    )
    assert hidden[0] == "none" and hidden[1] > 0
    browser.save_screenshot(str(screenshots / "print.png"))
    browser.execute_script("window.dispatchEvent(new Event('afterprint'))")


#: Times (ms) a step may take, key press to laid-out page, on a slow shared CI machine: a
#: 1-D step within a frame (16 ms) at the median, a 2-D one (hundreds of grid cells) within 40.
STEP_BOUNDS = {1: (16, 50), 2: (40, 100)}


@pytest.mark.parametrize(
    ("signal", "kernel"),
    [
        (np.arange(10_002) % 97, H2),
        (np.arange(102 * 102).reshape(102, 102) % 89, np.ones((3, 3), int)),
    ],
    ids=["1-D", "2-D"],
)
def test_ten_thousand_steps_step_without_lag(page, signal, kernel):
    chosen = explanations(signal, kernel)
    assert chosen[0].count == 10_000
    browser = page(explanation_page(chosen))
    timing = browser.execute_script(
        """
        const times = [];
        const key = (name) => document.dispatchEvent(new KeyboardEvent('keydown', {key: name, bubbles: true}));
        key('End');
        for (let i = 0; i < 60; i++) {
          const start = performance.now();
          key(i % 2 ? 'ArrowRight' : 'ArrowLeft');
          document.body.offsetHeight;  // lay the step out, as the screen would
          times.push(performance.now() - start);
        }
        const slider = document.querySelector('.slider');
        const start = performance.now();
        slider.value = 5000;
        slider.dispatchEvent(new Event('input'));
        document.body.offsetHeight;
        const jump = performance.now() - start;
        times.sort((a, b) => a - b);
        return {median: times[30], p95: times[56], jump: jump,
                nodes: document.getElementsByTagName('*').length};
        """
    )
    median, p95 = STEP_BOUNDS[signal.ndim]
    assert timing["median"] < median and timing["p95"] < p95 and timing["jump"] < p95, timing
    assert timing["nodes"] < 1500, timing  # only the cells around the window are drawn
    assert_step(shown(browser), chosen, 5000)


def test_the_embedded_page_steps_inside_its_sandboxed_frame(page):
    chosen = explanations(F, H)
    browser = page(
        f"<!DOCTYPE html><title>notebook</title><h1>a notebook</h1>{embedded(explanation_page(chosen))}"
    )
    frame = browser.find_element("css selector", "iframe")
    assert frame.get_attribute("sandbox") == "allow-scripts"
    browser.switch_to.frame(frame)
    try:
        click(browser, "button.next")
        assert_step(shown(browser), chosen, 1)
        from selenium.common.exceptions import WebDriverException

        with pytest.raises(WebDriverException, match=r"Blocked a frame .* cross-origin frame"):
            browser.execute_script("return window.parent.document.title")  # no way out
    finally:
        browser.switch_to.default_content()


#: Per section, the tapped cells, kernel taps and products that cannot be seen: outside
#: their stage, or inside it past its edge with no way to scroll there.
OUT_OF_REACH = """
const out = [];
for (const stage of document.querySelectorAll('.stepper .stage')) {
  const box = stage.getBoundingClientRect();
  const scrolls = ['auto', 'scroll'].includes(getComputedStyle(stage).overflowX);
  const cells = stage.querySelectorAll(
    'tr.signal td.tap, tr.kernel td.tap, tr.products td.tap, .grid td.tap, .grid.kernel td, .grid.products td');
  for (const cell of cells) {
    const rect = cell.getBoundingClientRect();
    const left = rect.left - box.left + stage.scrollLeft;
    const right = left + rect.width;
    const fits = left >= -1 && right <= stage.clientWidth + 1;
    const reachable = scrolls && left >= -1 && right <= stage.scrollWidth + 1;
    if (!fits && !reachable) out.push(cell.textContent);
  }
}
return out;
"""


def test_every_tap_of_a_widely_dilated_window_is_shown_and_reachable(page, screenshots):
    chosen = explanations(list(range(1, 101)), [1, 2, 3], Options.parse(dilation=30))
    browser = page(explanation_page(chosen))
    assert_step(shown(browser), chosen, 0)
    assert browser.execute_script(OUT_OF_REACH) == []
    gaps = browser.execute_script(
        "return Array.from(document.querySelectorAll('tr.signal td.gap'), n => n.textContent)"
    )
    assert gaps == ["\u2026"] * 4  # in each section, the 29 cells between taps elided, marked
    browser.save_screenshot(str(screenshots / "dilated.png"))


def test_a_long_kernels_taps_are_all_reachable(page):
    chosen = explanations(list(range(1, 13)), list(range(1, 46)), Options.parse(padding="full"))
    browser = page(explanation_page(chosen))
    press(browser, "\ue014")
    assert_step(shown(browser), chosen, 1)
    assert browser.execute_script(OUT_OF_REACH) == []


def test_a_wide_2d_kernel_keeps_its_whole_window_and_panes_reachable(page, screenshots):
    signal = np.arange(6 * 24).reshape(6, 24) % 10
    chosen = explanations(signal, np.ones((2, 18), int))
    browser = page(explanation_page(chosen))
    press(browser, "\ue014")
    assert_step(shown(browser), chosen, 1)
    assert browser.execute_script(OUT_OF_REACH) == []
    marks = browser.execute_script(
        "return Array.from(document.querySelectorAll('.op-convolution .grid.signal .more'),"
        " n => n.textContent)"
    )
    assert marks  # the rows and columns of f cut off are marked
    browser.save_screenshot(str(screenshots / "wide-2d.png"))


#: Per section, for the f strip and the output strip: cells drawn, "…" marks, the table's
#: width and a cell's, and the stage's width.
STRIPS = """
return Array.from(document.querySelectorAll('.stepper .stage'), stage => {
  const strip = (row) => {
    const cells = stage.querySelectorAll(row + ' td:not(.more)');
    return {cells: cells.length, marks: stage.querySelectorAll(row + ' td.more').length
              && Array.from(stage.querySelectorAll(row + ' td.more')).filter(n => n.textContent).length,
            width: stage.querySelector(row).closest('table').offsetWidth,
            cell: cells[1].getBoundingClientRect().left - cells[0].getBoundingClientRect().left};
  };
  return {signal: strip('tr.signal'), output: strip('tr.values'), stage: stage.clientWidth};
});
"""


@pytest.mark.parametrize("width", [360, 520, 700])
def test_a_strip_is_cut_only_for_want_of_room_and_marked_where_cut(page, browser, width):
    chosen = explanations(F, H2, Options.parse(padding="full"))
    page(explanation_page(chosen))
    media(browser, size=(width, 800))
    browser.refresh()
    time.sleep(0.1)  # the fit runs on the next frame
    for view in browser.execute_script(STRIPS):
        for name, length in (("signal", 9), ("output", 7)):
            strip = view[name]
            if strip["cells"] < length:
                assert strip["marks"], (name, view)
            if name == "signal" and strip["cells"] < length:
                assert strip["width"] + strip["cell"] > view["stage"], view  # no room for one more


@pytest.mark.parametrize("width", [700, 800])
def test_a_notebook_output_shows_both_operations_side_by_side_and_the_whole_page(
    page, screenshots, width
):
    import convcli

    output = convcli.explain(F, H)._repr_html_()
    browser = page(
        f'<!DOCTYPE html><title>notebook</title><div style="width: {width}px">{output}</div>'
    )
    frame = browser.find_element("css selector", "iframe")
    time.sleep(0.3)  # the page reports its height once laid out
    frame_height = frame.size["height"]
    browser.save_screenshot(str(screenshots / f"notebook-{width}.png"))
    browser.switch_to.frame(frame)
    try:
        inside = browser.execute_script(
            """
            const ops = Array.from(document.querySelectorAll('.op'), n => n.getBoundingClientRect());
            return {tops: ops.map(r => Math.round(r.top)),
                    verdict: document.querySelector('.verdict').getBoundingClientRect().bottom,
                    scrolls: document.documentElement.scrollHeight - window.innerHeight,
                    wide: Array.from(document.querySelectorAll('.stage'),
                                     n => n.scrollWidth - n.clientWidth)};
            """
        )
    finally:
        browser.switch_to.default_content()
    assert len(set(inside["tops"])) == 1, inside  # side by side
    assert max(inside["wide"]) <= 0, inside  # the classic example whole, unscrolled
    assert inside["verdict"] <= frame_height and inside["scrolls"] <= 0, (frame_height, inside)
    assert frame_height < 860  # sized to the page, not a fixed height that leaves a gap


#: The bottoms of the controls, each operation and the verdict's line; the type sizes.
FOLD = """
const bottom = (selector) => Array.from(document.querySelectorAll(selector),
                                        n => n.getBoundingClientRect().bottom);
const size = (selector) => parseFloat(getComputedStyle(document.querySelector(selector)).fontSize);
return {controls: bottom('.controls'), ops: bottom('.op'), verdict: bottom('.verdict .line'),
        index: size('tr.index td, tr.index th[scope=col]'), legend: size('.legend'), caption: size('.pane figcaption, .legend')};
"""


@pytest.mark.parametrize(
    ("name", "signal", "kernel", "options"),
    [
        ("1-D", F, H, Options()),
        (
            "2-D",
            np.arange(20).reshape(4, 5),
            [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
            Options.parse(padding="same"),
        ),
    ],
)
def test_a_projector_screen_holds_the_controls_both_operations_and_the_verdict(
    page, browser, screenshots, name, signal, kernel, options
):
    page(explanation_page(explanations(signal, kernel, options)))
    media(browser, size=(1280, 720))
    browser.refresh()
    time.sleep(0.1)
    fold = browser.execute_script(FOLD)
    browser.save_screenshot(str(screenshots / f"projector-{name}.png"))
    assert max(fold["controls"] + fold["ops"]) <= 720, fold
    if name == "1-D":
        assert max(fold["verdict"]) <= 720, fold
    assert min(fold["index"], fold["legend"], fold["caption"]) >= 16, fold  # projected type


@pytest.mark.parametrize(("button", "presses"), [("next", 3), ("last", 1)])
def test_the_focus_stays_on_a_control_at_either_end(page, button, presses):
    browser = page(explanation_page(explanations(F, H)))
    focused = "const n = document.activeElement; return [n.tagName, n.className, n.disabled];"
    browser.find_element("css selector", f"button.{button}").send_keys("\ue007" * presses)  # Enter
    assert shown(browser)["slider"] == "3"
    tag, name, disabled = browser.execute_script(focused)
    assert tag != "BODY" and not disabled, (tag, name)
    back = "first" if button == "last" else "back"
    browser.find_element("css selector", f"button.{back}").send_keys("\ue007" * presses)
    assert shown(browser)["slider"] == "0"
    tag, name, disabled = browser.execute_script(focused)
    assert tag != "BODY" and not disabled, (tag, name)
    press(browser, "\ue014")  # the keys still step
    assert shown(browser)["slider"] == "1"


def test_the_2d_output_grid_has_indices_and_rows_of_full_height(page):
    chosen = explanations(
        np.arange(20).reshape(4, 5), np.ones((3, 3), int), Options.parse(padding="same")
    )
    browser = page(explanation_page(chosen))
    grid = browser.execute_script(
        """
        const grid = document.querySelector('.op .grid.output');
        const texts = (selector) => Array.from(grid.querySelectorAll(selector), n => n.textContent);
        return {columns: texts('tr.index th[scope=col]'), rows: texts('th[scope=row]'),
                heights: Array.from(grid.querySelectorAll('td'), n => n.getBoundingClientRect().height)};
        """
    )
    assert grid["columns"] == ["0", "1", "2", "3", "4"]
    assert grid["rows"] == ["0", "1", "2", "3"]
    assert max(grid["heights"]) - min(grid["heights"]) <= 1, grid  # empty rows as tall as the rest


def test_the_layer_cells_list_shows_its_numbers_whole(page):
    terms = layer_terms([[list(range(104))]], [[[1, -1]]], [0], transposed=True)
    browser = page(layer_page(terms))
    press(browser, "\ue010")  # End: the list around cell 105
    room = browser.execute_script(
        """
        const stage = document.querySelector('.stage').getBoundingClientRect().left;
        return Array.from(document.querySelectorAll('ol.cells li'), li => {
          const style = getComputedStyle(li);
          const probe = document.createElement('span');
          probe.style.font = style.font;
          probe.textContent = li.value + '. ';
          document.body.appendChild(probe);
          const width = probe.getBoundingClientRect().width;
          probe.remove();
          const inside = style.listStylePosition === 'inside';
          return [li.value, inside || li.getBoundingClientRect().left - stage >= width];
        });
        """
    )
    assert [value for value, *_ in room][-1] == 104  # cells numbered from 0, as the steps are
    assert [value for value, fits, *_ in room if not fits] == []


def test_the_slider_says_its_step_and_the_stepper_the_keys_drive_is_marked(page):
    gradients = backward_pass([2, 1, 3, 5, 4, 6, 7], [1, -1, 2], None, "corr", Options())
    browser = page(backward_page(gradients))
    marks = """
    return Array.from(document.querySelectorAll('.stepper'), n => ({
      current: n.getAttribute('aria-current'), border: getComputedStyle(n).borderLeftColor,
      here: n.querySelector('.here') && n.querySelector('.here').offsetParent !== null,
      valuetext: n.querySelector('.slider').getAttribute('aria-valuetext'),
      counter: n.querySelector('.counter').textContent}));
    """
    steppers = browser.execute_script(marks)
    assert [s["current"] for s in steppers] == ["true", None, None]  # the keys drive the first
    assert [s["here"] for s in steppers] == [True, False, False]
    assert steppers[0]["border"] != steppers[1]["border"]
    assert all(s["valuetext"] == s["counter"] for s in steppers)
    click(browser, "button.next", stepper=2)
    steppers = browser.execute_script(marks)
    assert [s["current"] for s in steppers] == [None, None, "true"]
    assert [s["here"] for s in steppers] == [False, False, True]
    assert steppers[2]["valuetext"].startswith("Step 1 (2 of")


def test_printing_writes_out_every_product_of_a_long_kernel(page, browser):
    chosen = explanations(list(range(30)), list(range(1, 21)))
    page(explanation_page(chosen))
    lines = printed(browser)
    assert len(lines) == 2 * chosen[0].count
    for line, (explanation, position) in zip(
        lines, [(e, p) for e in chosen for p in e.positions()]
    ):
        step = explanation.step(position)
        products = " + ".join(format_cell(v) for v in step.products.flat)
        assert f" = {products} = {format_cell(step.total)}" in line, line
    width = browser.execute_script(
        "window.dispatchEvent(new Event('beforeprint'));"
        "const n = document.querySelector('#print'); n.style.display = 'block';"
        "return [n.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1]  # wrapped, not cut off at the page's edge

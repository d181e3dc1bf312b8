// convcli's lesson page: steps through the numbers convcli embedded as JSON.
// Every number shown is a string from the data; this script only moves indices
// (which cell a kernel tap reads, which step comes next), never computes a value.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("convcli-data").textContent);
  const root = document.getElementById("lesson");
  // Cells drawn around the current window: at most this many per axis (the rest is not in the DOM).
  const MAX_COLUMNS = 41;
  const MAX_GRID_COLUMNS = 15;
  const MIN_COLUMNS = 5;
  const MAX_ROWS = 11;
  const LIST_ROWS = 21;
  const SPEEDS = [0.5, 1, 2, 4, 8, 30];

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") node.className = value;
        else node.setAttribute(key, value === true ? "" : value);
      }
    }
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function add(parent, ...children) {
    for (const child of children) if (child) parent.appendChild(child);
    return parent;
  }

  // Row-major index arithmetic on shapes.
  function unravel(index, shape) {
    const position = new Array(shape.length);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      position[axis] = index % shape[axis];
      index = Math.floor(index / shape[axis]);
    }
    return position;
  }
  function ravel(position, shape) {
    let index = 0;
    for (let axis = 0; axis < shape.length; axis++) index = index * shape[axis] + position[axis];
    return index;
  }
  function count(shape) {
    return shape.reduce((a, b) => a * b, 1);
  }
  function clamp(value, low, high) {
    return Math.max(low, Math.min(high, value));
  }
  // A term of a sum: negatives and complex numbers in parentheses.
  function term(text) {
    return text.startsWith("-") || text.endsWith("j") ? "(" + text + ")" : text;
  }
  function label(position) {
    return position.join(",");
  }

  // ------------------------------------------------------------------ one stepped operation
  function Section(spec) {
    this.spec = spec;
    this.ndim = spec.output_shape.length;
    this.steps = spec.totals.length;
    this.taps = [];
    const kernelShape = spec.weights.shape;
    for (let k = 0; k < count(kernelShape); k++) this.taps.push(unravel(k, kernelShape));
    this.node = el("section", { class: "op op-" + spec.operation, "aria-label": spec.names.heading });
    const [title, story] = spec.names.heading.split(": ");
    const heading = add(el("h3", null, title));
    if (story) add(heading, el("span", { class: "story" }, story));
    add(this.node, heading);
    this.stage = el("div", { class: "stage" });
    this.sum = el("p", { class: "sum" });
    add(this.node, this.stage, this.sum);
  }

  // The padded cell (padded coordinates) each tap reads at output ``position``.
  Section.prototype.reads = function (position) {
    const spec = this.spec;
    return this.taps.map((tap) =>
      tap.map((k, axis) => position[axis] * spec.stride[axis] + k * spec.dilation[axis]),
    );
  };

  Section.prototype.isPadding = function (cell) {
    const spec = this.spec;
    return cell.some(
      (p, axis) => p < spec.pads[axis][0] || p >= spec.pads[axis][0] + spec.signal_shape[axis],
    );
  };

  // Text of a padded cell (padded coordinates) and its exact value, from the embedded box.
  Section.prototype.cellText = function (cell) {
    const spec = this.spec;
    const local = cell.map((p, axis) => p - spec.origin[axis]);
    const index = ravel(local, spec.padded.shape);
    return [spec.padded.cells[index], spec.padded.exact ? spec.padded.exact[index] : null];
  };

  Section.prototype.position = function (t) {
    return unravel(this.spec.first + t, this.spec.output_shape);
  };

  // The sum of step ``t`` written out; past 16 products only its count, unless ``whole``
  // (the printed steps, which wrap).
  Section.prototype.sumText = function (t, whole) {
    const spec = this.spec;
    const position = this.position(t);
    const products = spec.products[t];
    const name = spec.names.output + "[" + label(position) + "]";
    if (products.length > 16 && !whole) {
      return name + " = the sum of its " + products.length + " products = " + spec.totals[t];
    }
    const reads = this.reads(position);
    const pairs = this.taps.map((tap, k) => {
      const [value] = this.cellText(reads[k]);
      const shown = this.isPadding(reads[k]) ? "[" + value + "]" : term(value);
      return term(spec.weights.cells[k]) + "\u00d7" + shown;
    });
    return (
      name + " = " + pairs.join(" + ") + " = " + products.map(term).join(" + ") + " = " + spec.totals[t]
    );
  };

  // The visible range [start, start + size) of ``length`` cells that keeps [low, high] in view.
  function visible(low, high, length, size) {
    size = Math.min(size, length);
    const start = clamp(Math.round((low + high) / 2 - size / 2 + 0.5), 0, length - size);
    return [start, size];
  }

  // The cells drawn along one axis, GAP where cells are left out: the window's cells and
  // those around it up to ``size``; a window wider than that shows its tapped cells
  // (``taps``, ascending), the cells between dilated taps elided, so no tap is ever cut off.
  const GAP = -1;
  function axisCells(taps, length, size) {
    const low = taps[0];
    const high = taps[taps.length - 1];
    const cells = [];
    if (high - low + 1 <= size) {
      const [start, shown] = visible(low, high, length, size);
      for (let n = start; n < start + shown; n++) cells.push(n);
    } else {
      taps.forEach((n, k) => {
        if (k && n > taps[k - 1] + 1) cells.push(GAP);
        cells.push(n);
      });
    }
    return { cells: cells, before: cells[0] > 0, after: cells[cells.length - 1] < length - 1 };
  }

  Section.prototype.render = function (t) {
    const stage = this.stage;
    stage.textContent = "";
    if (t >= this.steps) {
      add(stage, el("p", { class: "note" }, "no step " + (this.spec.first + t) + " here"));
      this.sum.textContent = "";
      return;
    }
    const draw = () => (this.ndim === 1 ? this.render1(t) : this.render2(t));
    if (this.limit === undefined) this.limit = this.ndim === 1 ? MAX_COLUMNS : MAX_GRID_COLUMNS;
    draw();
    // Fewer cells while they overflow the section (long numbers, a narrow screen): checked
    // once the browser has laid the step out, so that stepping forces no layout of its own.
    // Only the tables the limit sizes count: what still overflows (a wide kernel, a window
    // wider than the limit) scrolls sideways within the stage.
    cancelAnimationFrame(this.fitting);
    this.fitting = requestAnimationFrame(() => {
      const wide = () => this.fitted.some((node) => node.offsetWidth > stage.clientWidth + 1);
      while (this.limit > MIN_COLUMNS && wide()) {
        this.limit -= 1;
        stage.textContent = "";
        draw();
      }
    });
    this.sum.textContent = this.sumText(t);
    if (this.spec.exact) this.sum.title = "exactly " + this.spec.exact[t];
  };

  Section.prototype.columns = function () {
    return this.limit;
  };

  Section.prototype.render1 = function (t) {
    const spec = this.spec;
    const position = this.position(t);
    const reads = this.reads(position).map((cell) => cell[0]);
    const low = reads[0];
    const high = reads[reads.length - 1];
    const boxStart = spec.origin[0];
    const shown = axisCells(
      reads.map((p) => p - boxStart), spec.padded.shape[0], this.columns(),
    );
    const tapAt = new Map(reads.map((p, k) => [p, k]));
    const table = el("table", { class: "strip", role: "presentation" });
    const rows = {
      index: el("tr", { class: "index" }),
      signal: el("tr", { class: "signal" }),
      kernel: el("tr", { class: "kernel" }),
      products: el("tr", { class: "products" }),
    };
    add(rows.index, el("th", { scope: "row" }, "index"));
    add(rows.signal, el("th", { scope: "row" }, spec.names.signal));
    add(rows.kernel, el("th", { scope: "row" }, spec.names.slid));
    add(rows.products, el("th", { scope: "row" }, "products"));
    const more = (side) => el("td", { class: "more", "aria-hidden": "true" }, side ? "\u2026" : "");
    for (const row of Object.values(rows)) add(row, more(shown.before && row === rows.signal));
    for (const local of shown.cells) {
      if (local === GAP) {
        for (const row of Object.values(rows)) {
          add(row, el("td", { class: "more gap", title: "cells left out between taps" }, row === rows.signal ? "\u2026" : ""));
        }
        continue;
      }
      const p = local + boxStart;
      const padding = this.isPadding([p]);
      const [text, exact] = this.cellText([p]);
      const k = tapAt.get(p);
      const inWindow = p >= low && p <= high;
      let cls = padding ? "pad" : "";
      if (inWindow) cls += " window";
      if (k !== undefined) cls += " tap";
      add(rows.index, el("td", { class: padding ? "pad" : "" }, String(p - spec.pads[0][0])));
      add(rows.signal, el("td", { class: cls.trim(), title: exact ? "exactly " + exact : null }, text));
      const tapped = k !== undefined;
      add(rows.kernel, el("td", { class: tapped ? "tap" : "" }, tapped ? spec.weights.cells[k] : ""));
      const productClass = tapped ? "tap" + (padding ? " pad" : "") : "";
      add(rows.products, el("td", { class: productClass }, tapped ? spec.products[t][k] : ""));
    }
    for (const row of Object.values(rows)) add(row, more(shown.after && row === rows.signal));
    add(table, rows.index, rows.signal, rows.kernel, rows.products);
    const output = this.outputStrip(t);
    add(this.stage, table, output);
    this.fitted = [table, output];
  };

  // Output ``n`` when step ``current`` is shown: worked out (its value), the current one,
  // still to come (empty), or outside the steps written out (a dot).
  Section.prototype.outputCell = function (n, current) {
    const spec = this.spec;
    const done = n >= spec.first && n <= current;
    const chosen = n >= spec.first && n < spec.first + this.steps;
    const cls = n === current ? "current" : done ? "done" : chosen ? "todo" : "outside";
    const exact = done && spec.exact ? "exactly " + spec.exact[n - spec.first] : null;
    return el("td", { class: cls, title: exact }, done ? spec.totals[n - spec.first] : chosen ? "" : "\u00b7");
  };

  // The outputs around the current one: those already worked out, the current one lit.
  Section.prototype.outputStrip = function (t) {
    const spec = this.spec;
    const total = count(spec.output_shape);
    const current = spec.first + t;
    const [start, size] = visible(current, current, total, this.columns());
    const table = el("table", { class: "strip output", role: "presentation" });
    const index = el("tr", { class: "index" });
    const row = el("tr", { class: "values" });
    add(index, el("th", { scope: "row" }, "index"));
    add(row, el("th", { scope: "row" }, spec.names.output));
    const more = (cut) => el("td", { class: "more", "aria-hidden": "true" }, cut ? "\u2026" : "");
    add(index, more(false));
    add(row, more(start > 0));
    for (let n = start; n < start + size; n++) {
      add(index, el("td", null, String(n)));
      add(row, this.outputCell(n, current));
    }
    add(index, more(false));
    add(row, more(start + size < total));
    return add(table, index, row);
  };

  // A 2-D step: the padded signal around the window, the kernel as slid, the products, the output.
  Section.prototype.render2 = function (t) {
    const spec = this.spec;
    const position = this.position(t);
    const reads = this.reads(position);
    const first = reads[0];
    const last = reads[reads.length - 1];
    const tapAt = new Map(reads.map((cell, k) => [cell.join(","), k]));
    const [rows, cols] = [0, 1].map((axis) => {
      const taps = [];
      for (let p = first[axis]; p <= last[axis]; p += spec.dilation[axis]) taps.push(p - spec.origin[axis]);
      return axisCells(taps, spec.padded.shape[axis], axis ? this.columns() : MAX_ROWS);
    });
    const panes = el("div", { class: "panes" });
    const grid = el("table", { class: "grid signal", role: "presentation" });
    const mark = (text) => el("td", { class: "more", "aria-hidden": "true" }, text);
    // a row of marks: above and below the rows drawn, and between dilated taps
    // a column of marks left and right only where columns are cut off
    const side = (row, cut, text) => (cut ? add(row, mark(text)) : row);
    const marks = (text) => {
      const row = side(add(el("tr", { class: "elided" }), el("th")), cols.before, "");
      for (let n = 0; n < cols.cells.length; n++) add(row, mark(text));
      return side(row, cols.after, "");
    };
    const head = el("tr", { class: "index" });
    side(add(head, el("th")), cols.before, "\u2026");
    for (const c of cols.cells) {
      add(head, el("th", { scope: "col" }, c === GAP ? "" : String(c + spec.origin[1] - spec.pads[1][0])));
    }
    add(grid, side(head, cols.after, "\u2026"));
    if (rows.before) add(grid, marks("\u22ee"));
    for (const r of rows.cells) {
      if (r === GAP) {
        add(grid, marks("\u22ee"));
        continue;
      }
      const row = el("tr");
      add(row, el("th", { scope: "row" }, String(r + spec.origin[0] - spec.pads[0][0])));
      side(row, cols.before, "\u2026");
      for (const c of cols.cells) {
        if (c === GAP) {
          add(row, mark("\u2026"));
          continue;
        }
        const cell = [r + spec.origin[0], c + spec.origin[1]];
        const [text, exact] = this.cellText(cell);
        const inWindow = cell.every((p, axis) => p >= first[axis] && p <= last[axis]);
        let cls = this.isPadding(cell) ? "pad" : "";
        if (inWindow) cls += " window";
        if (tapAt.has(cell.join(","))) cls += " tap";
        add(row, el("td", { class: cls.trim(), title: exact ? "exactly " + exact : null }, text));
      }
      add(grid, side(row, cols.after, "\u2026"));
    }
    if (rows.after) add(grid, marks("\u22ee"));
    const output = this.outputGrid(t);
    // the signal on the left; the kernel and products side by side, the output below them
    const kernel = pane(spec.names.slid, small(spec.weights.cells, spec.weights.shape, "kernel", "tap"));
    const products = pane("products", small(spec.products[t], spec.weights.shape, "products", "tap"));
    add(panes, pane(spec.names.signal + " (padded, around the window)", grid));
    const column = add(el("div", { class: "column" }), add(el("div", { class: "panes" }), kernel, products));
    add(panes, add(column, pane(spec.names.output, output)));
    add(this.stage, panes);
    this.fitted = [grid, output];
  };

  function pane(title, content) {
    return add(el("figure", { class: "pane" }), el("figcaption", null, title), content);
  }

  function small(cells, shape, cls, cellClass) {
    const grid = el("table", { class: "grid " + cls, role: "presentation" });
    for (let r = 0; r < shape[0]; r++) {
      const row = el("tr");
      for (let c = 0; c < shape[1]; c++) add(row, el("td", { class: cellClass }, cells[r * shape[1] + c]));
      add(grid, row);
    }
    return grid;
  }

  Section.prototype.outputGrid = function (t) {
    const spec = this.spec;
    const shape = spec.output_shape;
    const current = spec.first + t;
    const position = unravel(current, shape);
    const rows = visible(position[0], position[0], shape[0], MAX_ROWS);
    const cols = visible(position[1], position[1], shape[1], Math.min(9, this.columns()));
    const grid = el("table", { class: "grid output", role: "presentation" });
    const head = add(el("tr", { class: "index" }), el("th"));
    for (let c = cols[0]; c < cols[0] + cols[1]; c++) add(head, el("th", { scope: "col" }, String(c)));
    add(grid, head);
    for (let r = rows[0]; r < rows[0] + rows[1]; r++) {
      const row = add(el("tr"), el("th", { scope: "row" }, String(r)));
      for (let c = cols[0]; c < cols[0] + cols[1]; c++) {
        add(row, this.outputCell(ravel([r, c], shape), current));
      }
      add(grid, row);
    }
    return grid;
  };

  // ------------------------------------------------------------------ a layer's cells
  function LayerCells(spec) {
    this.spec = spec;
    this.steps = spec.cells.length;
    this.node = el("section", { class: "op op-layer", "aria-label": "the output cells" });
    add(this.node, el("h3", null, "Each output cell: the bias plus one window sum per input channel"));
    this.stage = el("div", { class: "stage" });
    this.sum = el("p", { class: "sum" });
    add(this.node, this.stage, this.sum);
  }

  LayerCells.prototype.sumText = function (t) {
    const [cell, out, sums, total] = this.spec.cells[t];
    const parts = (this.spec.biases ? [term(this.spec.biases[out])] : []).concat(sums.map(term));
    return "y[" + cell + "] = " + parts.join(" + ") + " = " + total;
  };

  LayerCells.prototype.render = function (t) {
    const spec = this.spec;
    const [cell, out, sums, total] = spec.cells[t];
    this.stage.textContent = "";
    const table = el("table", { class: "terms", role: "presentation" });
    const row = (name, text, cls) =>
      add(table, add(el("tr"), el("th", { scope: "row" }, name), el("td", { class: cls }, text)));
    if (spec.biases) row("bias[" + out + "]", spec.biases[out], "tap");
    // the term's name for this cell: its sample's channel, at this cell's position
    const [sample, , ...position] = cell.split(",");
    const at = (name) => "(" + name.replace("x[", "x[" + sample + ",") + ")[" + position.join(",") + "]";
    sums.forEach((text, j) => row(at(spec.term_names[out][j]), text, "tap"));
    row("y[" + cell + "]", total, "current");
    add(this.stage, table);
    const list = el("ol", { class: "cells" });
    const [start, size] = visible(t, t, this.steps, LIST_ROWS);
    for (let n = start; n < start + size; n++) {
      const item = el("li", { class: n === t ? "current" : n < t ? "done" : "todo", value: String(n) });
      item.textContent = "y[" + spec.cells[n][0] + "]" + (n <= t ? " = " + spec.cells[n][3] : "");
      add(list, item);
    }
    add(this.stage, pane("output cells", list));
    this.sum.textContent = this.sumText(t);
  };

  // ------------------------------------------------------------------ controls
  const steppers = [];
  let active = null;

  function Stepper(spec, sections) {
    this.spec = spec;
    this.sections = sections;
    this.count = Math.max(...sections.map((s) => s.steps));
    this.t = 0;
    this.timer = null;
    this.node = el("section", { class: "stepper", "aria-label": spec.label });
    if (spec.note) add(this.node, el("p", { class: "formula" }, spec.note));
    const controls = el("div", { class: "controls", role: "group", "aria-label": "step controls: " + spec.label });
    const button = (name, text, title) => {
      const b = el("button", { type: "button", class: name, "aria-label": title, title: title }, text);
      add(controls, b);
      return b;
    };
    this.firstButton = button("first", "|\u25c0", "First step (Home)");
    this.backButton = button("back", "\u25c0", "Previous step (left arrow)");
    this.playButton = button("play", "\u25b6 Play", "Play (space)");
    this.playButton.setAttribute("aria-pressed", "false");
    this.nextButton = button("next", "\u25b6", "Next step (right arrow)");
    this.lastButton = button("last", "\u25b6|", "Last step (End)");
    this.slider = el("input", {
      type: "range", min: "0", max: String(Math.max(this.count - 1, 0)), value: "0",
      step: "1", class: "slider", "aria-label": "Step",
    });
    add(controls, this.slider);
    const speed = el("label", { class: "speed" }, "speed ");
    this.speed = el("select", { "aria-label": "Steps per second" });
    for (const value of SPEEDS) {
      add(this.speed, el("option", { value: String(value), selected: value === 2 }, value + "/s"));
    }
    add(speed, this.speed);
    add(controls, speed);
    this.counter = el("span", { class: "counter", "aria-hidden": "true" });
    add(controls, this.counter);
    // shown on the stepper the keys drive, where a page has several
    add(controls, el("span", { class: "here" }, "\u2328 the keys step this part"));
    add(this.node, controls);
    // Announced to screen readers; the sums themselves are on the screen below.
    this.status = el("p", { class: "status", "aria-live": "polite", "aria-atomic": "true", role: "status" });
    add(this.node, this.status);
    const row = el("div", { class: sections.length > 1 ? "sections side-by-side" : "sections" });
    for (const section of sections) add(row, section.node);
    add(this.node, row);
    if (spec.total) {
      this.total = el("p", { class: "sum total" });
      add(this.node, this.total);
    }
    if (sections[0].spec.pads) add(this.node, legend(sections[0].spec));
    if (spec.result) {
      const result = el("div", { class: "result" });
      add(this.node, add(result, el("strong", null, spec.result.name + " = "), arrayNode(spec.result)));
    }
    this.firstButton.addEventListener("click", () => this.go(0));
    this.backButton.addEventListener("click", () => this.go(this.t - 1));
    this.nextButton.addEventListener("click", () => this.go(this.t + 1));
    this.lastButton.addEventListener("click", () => this.go(this.count - 1));
    this.playButton.addEventListener("click", () => this.toggle());
    this.slider.addEventListener("input", () => this.go(Number(this.slider.value)));
    this.speed.addEventListener("change", () => {
      if (this.timer !== null) {
        this.stop();
        this.play();
      }
    });
    this.node.addEventListener("focusin", () => activate(this));
    this.node.addEventListener("pointerdown", () => activate(this));
  }

  Stepper.prototype.go = function (t) {
    this.t = clamp(t, 0, this.count - 1);
    this.slider.value = String(this.t);
    for (const section of this.sections) {
      section.render(this.t);
    }
    const sums = this.sections.filter((s) => this.t < s.steps).map((s) => s.sumText(this.t));
    if (this.total) {
      this.total.textContent = this.totalText(this.t);
      sums.push(this.total.textContent);
    }
    const where = this.where(this.t);
    this.counter.textContent = where;
    this.slider.setAttribute("aria-valuetext", where);
    this.status.textContent = where + ": " + sums.join("; ");
    const focused = document.activeElement;
    this.backButton.disabled = this.t === 0;
    this.firstButton.disabled = this.t === 0;
    this.nextButton.disabled = this.t === this.count - 1;
    this.lastButton.disabled = this.t === this.count - 1;
    // a button disabled under the keyboard's focus would drop it to the page: the slider
    // takes it (its arrow keys step on)
    if (focused && focused.disabled) this.slider.focus();
  };

  // Steps numbered as convcli counts them (from 0, as --steps does), with the place among
  // those written out: "Step 40 (1 of 5 written out)" where only some are.
  Stepper.prototype.where = function (t) {
    const spec = this.sections[0].spec;
    const first = spec.first || 0;
    const ranged = spec.output_shape && this.count < count(spec.output_shape) ? " written out" : "";
    return "Step " + (first + t) + " (" + (t + 1) + " of " + this.count + ranged + ")";
  };

  // Where a printed list of steps starts, and the range it covers when not all are written out.
  Stepper.prototype.printedRange = function () {
    const spec = this.sections[0].spec;
    const first = spec.first || 0;
    if (!spec.output_shape || this.count === count(spec.output_shape)) return [first, ""];
    const range = " (steps " + first + " to " + (first + this.count - 1) + " of 0 to " + (count(spec.output_shape) - 1) + ")";
    return [first, range];
  };

  // A layer's cell: its bias plus the window sums of the sections, as embedded.
  Stepper.prototype.totalText = function (t) {
    const total = this.spec.total;
    const first = this.sections[0];
    const parts = (total.bias === null ? [] : [term(total.bias)]).concat(
      this.sections.map((section) => term(section.spec.totals[t])),
    );
    const value = total.values[first.spec.first + t];
    const cell = total.cell.concat(first.position(t));
    return total.name + "[" + label(cell) + "] = " + parts.join(" + ") + " = " + value;
  };

  // The stepper the keys drive: marked (for the eye and for assistive technology) on a
  // page of several.
  function activate(stepper) {
    active = stepper;
    if (steppers.length < 2) return;
    for (const other of steppers) {
      other.node.classList.toggle("active", other === stepper);
      if (other === stepper) other.node.setAttribute("aria-current", "true");
      else other.node.removeAttribute("aria-current");
    }
  }

  Stepper.prototype.play = function () {
    if (this.t >= this.count - 1) this.go(0);
    const interval = 1000 / Number(this.speed.value);
    this.timer = setInterval(() => {
      if (this.t >= this.count - 1) this.stop();
      else this.go(this.t + 1);
    }, interval);
    this.status.setAttribute("aria-live", "off");  // no flood of announcements while playing
    this.playButton.textContent = "\u23f8 Pause";
    this.playButton.setAttribute("aria-label", "Pause (space)");
    this.playButton.setAttribute("aria-pressed", "true");
  };

  Stepper.prototype.stop = function () {
    clearInterval(this.timer);
    this.timer = null;
    this.playButton.textContent = "\u25b6 Play";
    this.playButton.setAttribute("aria-label", "Play (space)");
    this.playButton.setAttribute("aria-pressed", "false");
    this.status.setAttribute("aria-live", "polite");
    this.go(this.t);  // and announce the step it stopped at
  };

  Stepper.prototype.toggle = function () {
    if (this.timer === null) this.play();
    else this.stop();
  };

  document.addEventListener("keydown", (event) => {
    const stepper = active || steppers[0];
    if (!stepper || event.altKey || event.ctrlKey || event.metaKey) return;
    const tag = event.target.tagName;
    if (tag === "SELECT" || (tag === "INPUT" && event.key !== " ")) return;  // their own keys
    if (tag === "BUTTON" && (event.key === " " || event.key === "Enter")) return;  // a click
    const actions = {
      ArrowRight: () => stepper.go(stepper.t + 1),
      ArrowLeft: () => stepper.go(stepper.t - 1),
      Home: () => stepper.go(0),
      End: () => stepper.go(stepper.count - 1),
      " ": () => stepper.toggle(),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  // What the colours and marks mean (in words too: colour is never the only cue).
  function legend(spec) {
    const node = el("p", { class: "legend" });
    const key = (cls, text) => add(node, el("span", { class: "key " + cls, "aria-hidden": "true" }), document.createTextNode(text));
    key("window", " the window ");
    key("tap", " the cells the kernel meets ");
    if (spec.pads.some((pad) => pad[0] || pad[1])) key("pad", " padding (" + spec.pad_mode + ") ");
    key("current", " the output worked out ");
    key("done", " outputs done");
    return node;
  }

  // ------------------------------------------------------------------ the static parts
  function arrayNode(grid) {
    if (grid.shape.length === 1) {
      const strip = el("span", { class: "array" });
      for (const text of grid.cells) add(strip, el("span", { class: "num" }, text));
      return strip;
    }
    return small(grid.cells, grid.shape, "matrix", "num");
  }

  function header() {
    const head = el("header");
    add(head, el("h1", null, data.title));
    if (data.options) add(head, el("p", { class: "options" }, data.options));
    if (data.inputs) {
      const inputs = el("dl", { class: "inputs" });
      for (const row of data.inputs) {
        const dd = el("dd");
        if (row.cells.length) add(dd, arrayNode(row));
        add(dd, el("span", { class: "note" }, row.note));
        add(inputs, add(el("div", { class: "input" }), el("dt", null, row.name), dd));
      }
      add(head, inputs);
    }
    for (const note of data.notes || []) add(head, el("p", { class: "note" }, "note: " + note));
    return head;
  }

  function verdictNode() {
    const verdict = el("section", { class: "verdict verdict-" + data.verdict.kind, "aria-label": "the verdict" });
    add(verdict, el("h2", { class: "line" }, data.verdict.line));
    add(verdict, el("p", null, data.verdict.why + (data.verdict.relation ? " " + data.verdict.relation : "")));
    return verdict;
  }

  // Print: every step as a line, laid out when printing starts and dropped after it.
  const printed = el("div", { id: "print", class: "print-only" });
  function layOutForPrint() {
    printed.textContent = "";
    for (const stepper of steppers) {
      const [start, range] = stepper.printedRange();
      for (const section of stepper.sections) {
        const heading = section.spec ? (section.spec.names ? section.spec.names.heading : "the output cells") : "";
        add(printed, el("h3", null, heading + range));
        const list = el("ol", { class: "all-steps", start: String(start) });
        for (let t = 0; t < section.steps; t++) add(list, el("li", null, section.sumText(t, true)));
        add(printed, list);
      }
      if (stepper.total) {
        add(printed, el("h3", null, stepper.spec.note + range));
        const list = el("ol", { class: "all-steps", start: String(start) });
        for (let t = 0; t < stepper.count; t++) add(list, el("li", null, stepper.totalText(t)));
        add(printed, list);
      }
    }
  }
  window.addEventListener("beforeprint", layOutForPrint);
  window.addEventListener("afterprint", () => (printed.textContent = ""));

  add(root, header());
  if (data.kind === "layer") {
    if (!data.agrees) add(root, el("p", { class: "note" }, "note: the sums do not agree with the layer's own output"));
    const stepper = new Stepper({ label: "the output cells" }, [new LayerCells(data)]);
    steppers.push(stepper);
  } else {
    for (const spec of data.steppers) {
      const stepper = new Stepper(spec, spec.sections.map((section) => new Section(section)));
      steppers.push(stepper);
    }
  }
  for (const stepper of steppers) add(root, stepper.node);
  if (data.verdict) add(root, verdictNode());
  add(root, printed);
  const keys = "Keys: \u2190 \u2192 step, space plays or pauses, Home and End go to the first and last step.";
  add(root, el("p", { class: "keys" }, keys));
  for (const stepper of steppers) stepper.go(0);
  if (steppers.length) activate(steppers[0]);
  // In a notebook's frame: post this page's height, for the notebook's script to fit the
  // frame to it (a number is all that crosses the sandbox).
  if (window.parent !== window && window.ResizeObserver) {
    const report = () => {
      const tall = document.documentElement.getBoundingClientRect().height;
      window.parent.postMessage({ convcliHeight: Math.ceil(tall) }, "*");
    };
    new ResizeObserver(report).observe(document.documentElement);
  }
  let resized = null;
  window.addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(() => {
      for (const stepper of steppers) {
        for (const section of stepper.sections) section.limit = undefined;
        stepper.go(stepper.t);
      }
    }, 100);
  });
})();

// A virtualised list: however many ids it holds, only the rows in view (plus a few either side) are in
// the DOM, drawn from a fixed pool of row elements that are moved and refilled as the list scrolls.
// Rows have one fixed height. Arrow keys, Page Up/Down, Home and End move the focus through all rows.

const OVERSCAN = 6;

export class VirtualList {
  /**
   * @param {object} o
   * @param {number} o.rowHeight pixels
   * @param {string} o.label accessible name of the list
   * @param {() => HTMLElement} o.createRow builds one empty row (the pool's element)
   * @param {(row: HTMLElement, id: string, index: number) => void} o.fillRow fills a row for an id
   * @param {(row: HTMLElement) => HTMLElement} o.focusTarget the focusable element of a row
   */
  constructor(o) {
    this.o = o;
    this.ids = [];
    this.pool = [];
    this.el = document.createElement("div");
    this.el.className = "vlist";
    this.el.setAttribute("role", "list");
    this.el.setAttribute("aria-label", o.label);
    this.spacer = document.createElement("div");
    this.spacer.className = "vlist-spacer";
    this.el.append(this.spacer);
    // The list's height and scroll position are kept from their events, so that drawing a frame
    // reads no layout (a read after other writes of the frame would force one).
    this.height = 0;
    this.top = 0;
    this.el.addEventListener(
      "scroll",
      () => {
        this.top = this.el.scrollTop;
        this.draw();
      },
      { passive: true },
    );
    this.el.addEventListener("keydown", (e) => this.#key(e));
    new ResizeObserver((entries) => {
      this.height = entries[0].contentRect.height;
      this.draw();
    }).observe(this.el);
  }

  setItems(ids) {
    this.ids = ids;
    this.spacer.style.height = `${ids.length * this.o.rowHeight}px`;
    this.top = Math.min(this.top, Math.max(0, ids.length * this.o.rowHeight - this.height));
  }

  /** Redraws the rows in view; `force` refills rows even when their id did not change. */
  draw(force = false) {
    const rh = this.o.rowHeight;
    const height = this.height || 600;
    const top = this.top;
    const first = Math.max(0, Math.floor(top / rh) - OVERSCAN);
    const last = Math.min(this.ids.length, Math.ceil((top + height) / rh) + OVERSCAN);
    const need = Math.ceil(height / rh) + 2 * OVERSCAN + 1;
    while (this.pool.length < need) {
      const row = this.o.createRow();
      row.style.position = "absolute";
      row.setAttribute("role", "listitem");
      this.pool.push(row);
      this.el.append(row);
    }
    const used = new Set();
    for (let i = first; i < last; i++) {
      const row = this.pool[i % this.pool.length];
      used.add(row);
      const id = this.ids[i];
      if (row._index !== i) {
        row._index = i;
        row.style.transform = `translateY(${i * rh}px)`;
        row.setAttribute("aria-posinset", String(i + 1));
      }
      if (row._setsize !== this.ids.length) {
        row._setsize = this.ids.length;
        row.setAttribute("aria-setsize", String(this.ids.length));
      }
      if (force || row._id !== id) {
        row._id = id;
        row.hidden = false;
      }
      this.o.fillRow(row, id, i);
    }
    for (const row of this.pool) {
      if (!used.has(row) && !row.hidden) {
        row.hidden = true;
        // A hidden row forgets whom it showed (its data-id and the filler's cache key).
        row._index = -1;
        row._id = undefined;
        row._key = undefined;
        row.removeAttribute("data-id");
      }
    }
  }

  /** Scrolls so that row `index` is in view and focuses it. */
  focusIndex(index) {
    if (this.ids.length === 0) return;
    const i = Math.max(0, Math.min(this.ids.length - 1, index));
    const rh = this.o.rowHeight;
    const top = i * rh;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (top + rh > this.el.scrollTop + this.el.clientHeight)
      this.el.scrollTop = top + rh - this.el.clientHeight;
    this.top = this.el.scrollTop;
    this.draw();
    const row = this.pool.find((r) => r._index === i);
    if (row) this.o.focusTarget(row).focus({ preventScroll: true });
  }

  #key(e) {
    const row = e.target.closest?.("[role=listitem]");
    const at = row ? row._index : -1;
    const page = Math.max(1, Math.floor(this.el.clientHeight / this.o.rowHeight) - 1);
    const to = {
      ArrowDown: at + 1,
      ArrowUp: at - 1,
      PageDown: at + page,
      PageUp: at - page,
      Home: 0,
      End: this.ids.length - 1,
    }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    this.focusIndex(to);
  }
}

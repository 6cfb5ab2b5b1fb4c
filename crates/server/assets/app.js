// strata's web page: browse, view, create, edit and delete keys, increment
// counters, watch the levels, flush and compact — all through the HTTP API
// (docs/http-api.md). Plain JavaScript, no build step, no outside requests.
//
// Keys and values are bytes. The page keeps every key as a Uint8Array and
// puts it in a URL by percent-encoding each byte, so a key that is not UTF-8
// (listed as base64) is addressed exactly. When the server asks for a token,
// the login form sets the `strata_token` cookie, which same-origin fetches
// send along.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const encoder = new TextEncoder();
  const strictDecoder = new TextDecoder("utf-8", { fatal: true });

  const TEXT_VIEW_LIMIT = 1 << 20; // characters of a text value shown
  const HEX_VIEW_LIMIT = 64 << 10; // bytes of a binary value shown
  const EDIT_LIMIT = 1 << 20; // bytes: larger values are edited through the API
  const STATS_EVERY_MS = 3000;

  // ---- bytes ---------------------------------------------------------------

  const hex2 = (b) => b.toString(16).padStart(2, "0");

  /** Percent-encodes every byte but the unreserved ones (RFC 3986). */
  function pathEncode(bytes) {
    let out = "";
    for (const b of bytes) {
      const unreserved =
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
        b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
      out += unreserved ? String.fromCharCode(b) : "%" + hex2(b).toUpperCase();
    }
    return out;
  }

  function base64ToBytes(text) {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  /** A byte string from a listing: `"utf8"` text or `"base64"`. */
  const listedBytes = (text, encoding) =>
    encoding === "base64" ? base64ToBytes(text) : encoder.encode(text);

  const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  // Control characters make text unreadable (and some do not survive a
  // form field), so text with them is shown as bytes.
  const CONTROL_IN_LINE = /[\u0000-\u001f\u007f]/;
  const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

  /**
   * The bytes as a string when they are valid UTF-8 without control
   * characters (tab, LF and CR allowed when `multiline`), else null.
   */
  function asText(bytes, multiline) {
    let text;
    try {
      text = strictDecoder.decode(bytes);
    } catch (_) {
      return null;
    }
    return (multiline ? CONTROL_IN_TEXT : CONTROL_IN_LINE).test(text) ? null : text;
  }

  /** A key as shown: its text, or printable ASCII with `\xHH` escapes. */
  function keyLabel(bytes) {
    const text = asText(bytes, false);
    if (text !== null) return { text, binary: false };
    let out = "";
    for (const b of bytes) {
      out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : "\\x" + hex2(b);
    }
    return { text: out, binary: true };
  }

  const toHex = (bytes) => Array.from(bytes, hex2).join(" ");

  function parseHex(text, what) {
    const digits = text.replace(/\s+/g, "");
    if (digits.length % 2 !== 0 || /[^0-9a-fA-F]/.test(digits)) {
      throw new UserError(`${what} is not hex bytes: write pairs of digits 0-9 a-f, like "ff 00 61"`);
    }
    const out = new Uint8Array(digits.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.substr(2 * i, 2), 16);
    return out;
  }

  /** `offset  16 hex bytes  |ascii|` lines, like `hexdump -C`. */
  function hexDump(bytes) {
    const end = Math.min(bytes.length, HEX_VIEW_LIMIT);
    const lines = [];
    for (let offset = 0; offset < end; offset += 16) {
      const row = bytes.subarray(offset, Math.min(offset + 16, end));
      let hex = "";
      let ascii = "";
      for (let i = 0; i < 16; i++) {
        if (i === 8) hex += " ";
        hex += i < row.length ? hex2(row[i]) + " " : "   ";
        if (i < row.length) ascii += row[i] >= 0x20 && row[i] < 0x7f ? String.fromCharCode(row[i]) : ".";
      }
      lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex} |${ascii}|`);
    }
    return lines.join("\n");
  }

  function humanBytes(n) {
    const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit === 0 ? `${n} ${n === 1 ? "byte" : "bytes"}` : `${value.toFixed(1)} ${units[unit]}`;
  }

  const plural = (n, one, many) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

  // ---- the API ---------------------------------------------------------------

  /** An error answer of the API (`{error, code}`), or no answer at all. */
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** Something the user typed that cannot be sent. */
  class UserError extends Error {}

  /** fetch, with every non-2xx answer thrown as an ApiError. */
  async function api(method, path, { body, headers } = {}) {
    let response;
    try {
      response = await fetch(path, { method, body, headers, cache: "no-store", credentials: "same-origin" });
    } catch (err) {
      throw new ApiError(0, "network_error", `cannot reach the server (${err.message})`);
    }
    if (response.ok) return response;
    let code = `http_${response.status}`;
    let message = response.statusText || "the request failed";
    try {
      const answer = await response.json();
      if (answer && typeof answer.code === "string") {
        code = answer.code;
        message = answer.error;
      }
    } catch (_) {
      // Not JSON (e.g. a bare 414 from the HTTP layer): keep the status text.
    }
    throw new ApiError(response.status, code, message);
  }

  const keyPath = (key) => `/kv/${pathEncode(key)}`;

  // ---- notices -----------------------------------------------------------------

  function showError(err) {
    const box = $("error");
    let text;
    if (err instanceof ApiError) {
      text = err.status ? `${err.message} (${err.code}, HTTP ${err.status})` : err.message;
      if (err.status === 401) text += " — reload the page to sign in.";
    } else if (err instanceof UserError) {
      text = err.message;
    } else {
      text = `Unexpected error: ${err && err.message ? err.message : err}`;
    }
    box.textContent = text;
    box.dataset.code = err && err.code ? err.code : "";
    box.hidden = false;
  }

  function showMessage(text) {
    $("message").textContent = text;
    $("message").hidden = false;
  }

  function clearNotices() {
    for (const id of ["error", "message"]) {
      $(id).hidden = true;
      $(id).textContent = "";
    }
  }

  /** Runs a user action: notices cleared, `button` disabled meanwhile, errors shown. */
  async function action(button, work) {
    clearNotices();
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
    try {
      await work();
    } catch (err) {
      showError(err);
    } finally {
      if (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      }
    }
  }

  // ---- the key list ------------------------------------------------------------

  // cursors[i] is the cursor that fetches page i (null for the first), so
  // "previous" goes back without the API having to page backwards.
  const listing = { prefix: "", limit: 50, cursors: [null], page: 0, next: null, keys: [] };

  async function loadPage() {
    const params = new URLSearchParams();
    if (listing.prefix) params.set("prefix", listing.prefix);
    params.set("limit", String(listing.limit));
    const cursor = listing.cursors[listing.page];
    if (cursor) params.set("cursor", cursor);
    const answer = await (await api("GET", `/kv?${params}`)).json();
    listing.keys = answer.keys.map((k) => listedBytes(k.key, k.key_encoding));
    listing.next = answer.next_cursor;
    renderKeys();
  }

  /** Reloads the page shown (after a write), stepping back if it emptied. */
  async function refreshListing() {
    await loadPage();
    if (listing.keys.length === 0 && listing.page > 0) {
      listing.page -= 1;
      await loadPage();
    }
  }

  async function turnPage(step) {
    const before = listing.page;
    if (step > 0) {
      if (!listing.next) return;
      listing.cursors[before + 1] = listing.next;
    }
    listing.page = Math.max(0, before + step);
    try {
      await loadPage();
    } catch (err) {
      listing.page = before;
      throw err;
    }
  }

  function renderKeys() {
    $("key-list").replaceChildren(...listing.keys.map(keyItem));
    const empty = $("key-list-empty");
    empty.hidden = listing.keys.length > 0;
    empty.textContent = listing.page > 0 ? "No more keys." : "No keys here.";
    $("prev-page").disabled = listing.page === 0;
    $("next-page").disabled = !listing.next;
    const count = listing.keys.length ? ` · ${plural(listing.keys.length, "key", "keys")}` : "";
    $("page-info").textContent = `page ${listing.page + 1}${count}`;
    markCurrent();
  }

  function keyItem(key) {
    const label = keyLabel(key);
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.testid = "key-item";
    button.dataset.key = pathEncode(key);
    const text = document.createElement("span");
    text.className = "key-text";
    text.textContent = label.text;
    button.append(text);
    if (label.binary) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "bytes";
      badge.title = "not UTF-8 text: other bytes are shown as \\xHH";
      button.append(badge);
    }
    button.addEventListener("click", () => action(null, () => viewKey(key)));
    const item = document.createElement("li");
    item.append(button);
    return item;
  }

  function markCurrent() {
    const selected = current ? pathEncode(current.key) : null;
    for (const button of $("key-list").querySelectorAll("button")) {
      if (button.dataset.key === selected) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  // ---- the value viewer ----------------------------------------------------------

  /** The value shown: { key, bytes, type, text (null when binary) }. */
  let current = null;

  async function viewKey(key) {
    let response;
    try {
      response = await api("GET", keyPath(key));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && current && sameBytes(current.key, key)) {
        current = null;
        renderViewer();
      }
      throw err;
    }
    const type = response.headers.get("content-type") || "";
    const bytes = new Uint8Array(await response.arrayBuffer());
    current = { key, bytes, type, text: asText(bytes, true) };
    renderViewer();
  }

  function renderViewer() {
    $("viewer-empty").hidden = current !== null;
    $("viewer-body").hidden = current === null;
    $("delete-confirm").hidden = true;
    markCurrent();
    if (!current) return;
    $("view-key").textContent = keyLabel(current.key).text;
    $("view-type").textContent = current.type || "—";
    const pre = $("view-value");
    const size = current.bytes.length;
    const exact = size < 1024 ? humanBytes(size) : `${humanBytes(size)} (${plural(size, "byte", "bytes")})`;
    if (current.text !== null) {
      pre.dataset.kind = "text";
      const cut = current.text.length > TEXT_VIEW_LIMIT;
      pre.textContent = cut ? current.text.slice(0, TEXT_VIEW_LIMIT) : current.text;
      $("view-size").textContent = `${exact} · text${cut ? ", the start shown" : ""}`;
    } else {
      pre.dataset.kind = "binary";
      pre.textContent = hexDump(current.bytes);
      const cut = size > HEX_VIEW_LIMIT;
      $("view-size").textContent = `${exact} · binary, shown as hex${cut ? `, the first ${humanBytes(HEX_VIEW_LIMIT)}` : ""}`;
    }
  }

  function askDelete() {
    if (!current) return;
    $("delete-question").textContent = `Delete ${keyLabel(current.key).text}?`;
    $("delete-confirm").hidden = false;
    $("confirm-delete").focus();
  }

  async function deleteCurrent() {
    if (!current) return;
    const key = current.key;
    await api("DELETE", keyPath(key));
    current = null;
    renderViewer();
    await refreshListing();
    showMessage(`Deleted ${keyLabel(key).text}`);
  }

  // ---- the editor ---------------------------------------------------------------

  // How each field is written: "text" (UTF-8) or "hex" (bytes).
  const encodings = { "edit-key": "text", "edit-value": "text" };
  const fieldNames = { "edit-key": "The key", "edit-value": "The value" };

  function fieldBytes(fieldId) {
    const value = $(fieldId).value;
    return encodings[fieldId] === "hex" ? parseHex(value, fieldNames[fieldId]) : encoder.encode(value);
  }

  /** Fills a field with `text`, or with `bytes` as hex when `text` is null. */
  function setField(fieldId, bytes, text) {
    encodings[fieldId] = text === null ? "hex" : "text";
    $(`${fieldId}-encoding`).value = encodings[fieldId];
    $(fieldId).value = text === null ? toHex(bytes) : text;
  }

  /** The user switched a field between text and hex: convert what it holds. */
  function switchEncoding(fieldId) {
    const select = $(`${fieldId}-encoding`);
    const from = encodings[fieldId];
    const to = select.value;
    if (from === to) return;
    clearNotices();
    try {
      const bytes = fieldBytes(fieldId);
      if (to === "hex") {
        $(fieldId).value = toHex(bytes);
      } else {
        const text = asText(bytes, fieldId === "edit-value");
        if (text === null || text.includes("\r")) {
          throw new UserError(`${fieldNames[fieldId]} is not plain UTF-8 text: keep it as hex bytes`);
        }
        $(fieldId).value = text;
      }
      encodings[fieldId] = to;
    } catch (err) {
      select.value = from;
      showError(err);
    }
  }

  function editCurrent() {
    if (!current) return;
    if (current.bytes.length > EDIT_LIMIT) {
      throw new UserError(`this value is over ${humanBytes(EDIT_LIMIT)}: change it through the API (PUT /kv/{key})`);
    }
    setField("edit-key", current.key, asText(current.key, false));
    // A form field turns CR LF into LF: values with CR are edited as hex.
    const text = current.text !== null && !current.text.includes("\r") ? current.text : null;
    setField("edit-value", current.bytes, text);
    $("edit-type").value = current.type;
    $("edit-ttl").value = "";
    $("editor").scrollIntoView({ block: "nearest" });
    $("edit-value").focus();
  }

  async function save() {
    const key = fieldBytes("edit-key");
    if (key.length === 0) throw new UserError("The key is empty.");
    const value = fieldBytes("edit-value");
    const type = $("edit-type").value.trim();
    if (!/^[\x20-\x7e]*$/.test(type)) {
      throw new UserError("The content type must be printable ASCII, like text/plain.");
    }
    const ttl = $("edit-ttl").value.trim();
    const query = ttl ? `?${new URLSearchParams({ ttl })}` : "";
    // A byte body: fetch adds no Content-Type of its own, so "none" stays none.
    await api("PUT", keyPath(key) + query, { body: value, headers: type ? { "Content-Type": type } : {} });
    await viewKey(key);
    await refreshListing();
    showMessage(`Saved ${keyLabel(key).text}${ttl ? `, expiring in ${ttl}` : ""}`);
  }

  // ---- counters -------------------------------------------------------------------

  async function increment() {
    const name = encoder.encode($("counter-name").value);
    if (name.length === 0) throw new UserError("Give the counter a name.");
    const by = $("counter-by").value.trim();
    if (!/^-?\d+$/.test(by)) throw new UserError("“Add” must be a whole number.");
    const query = by === "1" ? "" : `?${new URLSearchParams({ by })}`;
    const answer = await (await api("POST", `/seq/${pathEncode(name)}${query}`)).text();
    // Read the digits themselves: JSON numbers lose precision past 2^53.
    const digits = /"value"\s*:\s*(-?\d+)/.exec(answer);
    $("counter-value").textContent = digits ? digits[1] : String(JSON.parse(answer).value);
    if (current && sameBytes(current.key, name)) await viewKey(name);
    await refreshListing();
  }

  // ---- levels and statistics -------------------------------------------------------

  let statsRun = null;
  let statsQueued = null;

  /** Fetches the statistics; a call during a fetch waits for a fresh one. */
  function refreshStats() {
    if (!statsRun) {
      statsRun = loadStats().finally(() => {
        statsRun = null;
      });
      return statsRun;
    }
    if (!statsQueued) {
      statsQueued = statsRun.then(() => {
        statsQueued = null;
        return refreshStats();
      });
    }
    return statsQueued;
  }

  async function loadStats() {
    const state = $("server-state");
    try {
      const stats = await (await api("GET", "/admin/stats")).json();
      renderLevels(stats.levels || []);
      renderSummary(stats);
      state.className = "state live";
      state.textContent = `live · ${location.host}`;
      $("stats-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      state.className = "state down";
      state.textContent = err.status === 401 ? "not signed in" : `unreachable: ${err.message}`;
    }
  }

  function renderLevels(levels) {
    const body = $("levels-body");
    const maxFiles = Math.max(1, ...levels.map((l) => l.files));
    const maxBytes = Math.max(1, ...levels.map((l) => l.bytes));
    const rows = levels.map((level) => {
      // Rows are kept across refreshes so the bars move instead of redrawing.
      let row = body.querySelector(`tr[data-level="${level.level}"]`);
      if (!row) row = levelRow(level.level);
      row.dataset.files = level.files;
      row.dataset.bytes = level.bytes;
      setMetric(row.querySelector(".files-cell"), level.files, maxFiles, plural(level.files, "file", "files"));
      setMetric(row.querySelector(".bytes-cell"), level.bytes, maxBytes, humanBytes(level.bytes));
      row.querySelector(".entries-cell").textContent = level.entries.toLocaleString("en");
      return row;
    });
    body.replaceChildren(...rows);
  }

  function levelRow(level) {
    const row = document.createElement("tr");
    row.dataset.testid = "level-row";
    row.dataset.level = level;
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = `L${level}`;
    row.append(name, metricCell("files"), metricCell("bytes"));
    const entries = document.createElement("td");
    entries.className = "num entries-cell";
    row.append(entries);
    return row;
  }

  function metricCell(kind) {
    const cell = document.createElement("td");
    cell.className = `${kind}-cell`;
    const metric = document.createElement("div");
    metric.className = "metric";
    const track = document.createElement("span");
    track.className = "track";
    track.setAttribute("aria-hidden", "true");
    const bar = document.createElement("span");
    bar.className = `bar ${kind}`;
    bar.dataset.testid = `${kind}-bar`;
    track.append(bar);
    const figure = document.createElement("span");
    figure.className = "figure";
    metric.append(track, figure);
    cell.append(metric);
    return cell;
  }

  function setMetric(cell, value, max, text) {
    // Anything non-zero gets a sliver, so a level with data never looks empty.
    const percent = value > 0 ? Math.max(2, (100 * value) / max) : 0;
    cell.querySelector(".bar").style.width = `${percent}%`;
    cell.querySelector(".figure").textContent = text;
  }

  function renderSummary(stats) {
    const ratio = (x) => (x === null || x === undefined ? "—" : `${x.toFixed(2)}×`);
    const m = stats.memtables || {};
    const items = [
      ["Memtable", `${humanBytes(m.active_bytes || 0)}${m.immutable_count ? ` + ${m.immutable_count} waiting` : ""}`],
      ["Last sequence number", (stats.last_seqno || 0).toLocaleString("en")],
      ["Write amplification", ratio(stats.amplification && stats.amplification.write)],
      ["Space amplification", ratio(stats.amplification && stats.amplification.space)],
      ["Block cache hits", stats.cache && stats.cache.hit_ratio !== null ? `${(100 * stats.cache.hit_ratio).toFixed(1)}%` : "—"],
      ["Flushes", (stats.flushes || 0).toLocaleString("en")],
      ["Compactions", ((stats.compactions && stats.compactions.total) || 0).toLocaleString("en")],
      ["Write stalls", stats.stalls ? `${stats.stalls.count} (${stats.stalls.time_ms} ms)` : "—"],
    ];
    $("stats-summary").replaceChildren(
      ...items.map(([term, value]) => {
        const group = document.createElement("div");
        const dt = document.createElement("dt");
        dt.textContent = term;
        const dd = document.createElement("dd");
        dd.textContent = value;
        group.append(dt, dd);
        return group;
      }),
    );
  }

  async function flush() {
    const answer = await (await api("POST", "/admin/flush")).json();
    await refreshStats();
    showMessage(`Flushed the memtables in ${answer.elapsed_ms} ms`);
  }

  async function compact() {
    const answer = await (await api("POST", "/admin/compact")).json();
    await refreshStats();
    showMessage(`Compacted all tables in ${answer.elapsed_ms} ms`);
  }

  // ---- wiring ------------------------------------------------------------------------

  const TOKEN_COOKIE = "strata_token";

  function signOut() {
    document.cookie = `${TOKEN_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict`;
    location.reload();
  }

  function onSubmit(formId, buttonId, work) {
    $(formId).addEventListener("submit", (event) => {
      event.preventDefault();
      action($(buttonId), work);
    });
  }

  function onClick(buttonId, work, busy = true) {
    $(buttonId).addEventListener("click", () => action(busy ? $(buttonId) : null, work));
  }

  function init() {
    onSubmit("list-form", "list-button", async () => {
      const limit = Number($("limit").value);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new UserError("“Per page” must be a whole number from 1 to 1000.");
      }
      Object.assign(listing, { prefix: $("prefix").value, limit, cursors: [null], page: 0 });
      await loadPage();
    });
    // Not "busy": loadPage sets whether the pager buttons can be used.
    onClick("prev-page", () => turnPage(-1), false);
    onClick("next-page", () => turnPage(1), false);

    onClick("edit-button", async () => editCurrent(), false);
    onClick("reload-value", async () => current && viewKey(current.key));
    $("delete-button").addEventListener("click", askDelete);
    $("cancel-delete").addEventListener("click", () => {
      $("delete-confirm").hidden = true;
      $("delete-button").focus();
    });
    onClick("confirm-delete", deleteCurrent);

    onSubmit("edit-form", "save-button", save);
    $("edit-form").addEventListener("reset", () => {
      // The reset puts both selects back to "text".
      encodings["edit-key"] = "text";
      encodings["edit-value"] = "text";
      clearNotices();
    });
    $("edit-key-encoding").addEventListener("change", () => switchEncoding("edit-key"));
    $("edit-value-encoding").addEventListener("change", () => switchEncoding("edit-value"));

    onSubmit("counter-form", "increment-button", increment);
    onClick("flush-button", flush);
    onClick("compact-button", compact);

    if (document.cookie.split(";").some((c) => c.trim().startsWith(`${TOKEN_COOKIE}=`))) {
      $("sign-out").hidden = false;
      $("sign-out").addEventListener("click", signOut);
    }

    setInterval(() => {
      if (!document.hidden) refreshStats();
    }, STATS_EVERY_MS);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) refreshStats();
    });

    Promise.all([action(null, loadPage), refreshStats()]).finally(() => {
      document.body.dataset.ready = "true";
    });
  }

  init();
})();

// The web view in a real browser (CTest label "browser"): Debian's chromium driven by
// puppeteer-core (no browser download) against the real vpcflow-digesterd over loopback, on
// data made by `vpcflow-digest generate`. It requests a digest from the page, waits for it,
// checks that the totals, the top talker and the rejected-traffic table show what the API
// answers, sorts tables by clicking their headers, clicks a node of the graph and checks that the filter applies, and saves a
// screenshot. Everything it starts is stopped and removed, also when it fails.
//
// node browser_test.mjs --digesterd BIN --digest BIN --screenshot FILE.png [--chromium BIN]
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import assert from "node:assert/strict";
import puppeteer from "puppeteer-core";

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
for (const k of ["digesterd", "digest", "screenshot"]) {
  if (!args[k]) throw new Error("missing --" + k);
}
const chromium = args.chromium ?? "/usr/bin/chromium";
const START = "2019-01-01T00:00:00Z";
const STOP = "2019-01-01T01:00:00Z";
const DEADLINE_MS = 60000;

function step(text) { console.log("browser_test: " + text); }

// Starts the service; resolves with its port from the "startup" log line.
function startService(dataDir) {
  const child = spawn(args.digesterd, [], {
    env: {
      ...process.env, LISTEN_ADDRESS: "127.0.0.1", PORT: "0", STATSD_ADDRESS: "",
      DIGEST_THREADS: "2", DATA_DIR: dataDir,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = [];
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no startup line:\n" + output.join("\n"))), 30000);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        output.push(line);
        try {
          const event = JSON.parse(line);
          if (event.event === "startup") { clearTimeout(timer); resolve(event.port); }
        } catch { /* not a log line */ }
      });
    }
    child.on("exit", (code) => reject(new Error("the service exited (" + code + "):\n" + output.join("\n"))));
  });
  return { child, port, output };
}

async function apiJson(base, path) {
  const response = await fetch(base + path);
  assert.equal(response.status, 200, path + ": " + (await response.clone().text()));
  return response.json();
}

function jsonQuery(params) {
  return "/?" + new URLSearchParams({ start: START, stop: STOP, format: "json", ...params });
}

async function main() {
  assert.ok(existsSync(chromium), chromium + " is missing: scripts/bootstrap.sh installs chromium");
  const dir = mkdtempSync(join(tmpdir(), "vpcflow-browser-"));
  let service = null;
  let browser = null;
  try {
    step("generating flow logs");
    const gen = spawnSync(args.digest, ["generate", "--out", join(dir, "flowlogs"), "--start",
      "2018-12-31T23:50:00Z", "--stop", "2019-01-01T02:00:00Z", "--size-mb", "3", "--seed", "7",
      "--threads", "2"], { encoding: "utf8" });
    assert.equal(gen.status, 0, gen.stderr);

    service = startService(dir);
    const port = await service.port;
    const base = "http://127.0.0.1:" + port;
    step("service on " + base);

    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      userDataDir: join(dir, "chromium-profile"),
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1400,1800"],
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1800 });
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));

    // The page's address carries the window: the page finds no digest and offers to make it.
    await page.goto(base + "/ui/?start=" + START + "&stop=" + STOP, { waitUntil: "load" });
    await page.waitForSelector("#request:not(.hidden)", { timeout: DEADLINE_MS });
    step("requesting the digest from the page");
    await page.click("#request");
    await page.waitForSelector("#results:not(.hidden)", { timeout: DEADLINE_MS });
    await page.waitForSelector("#talkers table", { timeout: DEADLINE_MS });

    step("checking totals, top talker and rejected traffic against the API");
    const all = await apiJson(base, jsonQuery({ top: "1" }));
    const shown = await page.$eval("#totals", (e) => ({ bytes: e.dataset.bytes, rows: e.dataset.rows }));
    assert.equal(shown.bytes, String(all.totals.bytes));
    assert.equal(shown.rows, String(all.totals.rows));
    const statText = await page.$eval("[data-stat=rows] .v", (e) => e.textContent);
    assert.equal(statText, all.totals.rows.toLocaleString("en-US"));

    const talkers = await apiJson(base, jsonQuery({ group_by: "srcaddr,dstaddr", top: "10" }));
    const talkerRows = await page.$$eval("#talkers tbody tr", (trs) =>
      trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    assert.ok(talkers.rows.length > 0);
    assert.equal(talkerRows.length, talkers.rows.length);
    assert.equal(talkerRows[0][0], talkers.rows[0].srcaddr);
    assert.equal(talkerRows[0][1], talkers.rows[0].dstaddr);
    assert.equal(talkerRows[0][3], talkers.rows[0].packets.toLocaleString("en-US"));

    const rejected = await apiJson(base, jsonQuery({
      filter: "action=REJECT", group_by: "srcaddr,dstaddr,dstport,protocol", top: "10",
    }));
    const rejectedRows = await page.$$eval("#rejected tbody tr", (trs) =>
      trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    assert.ok(rejected.rows.length > 0, "the generated data has rejected traffic");
    assert.equal(rejectedRows.length, rejected.rows.length);
    rejected.rows.forEach((r, i) => {
      assert.equal(rejectedRows[i][0], r.srcaddr);
      assert.equal(rejectedRows[i][1], r.dstaddr);
      assert.equal(rejectedRows[i][4], r.packets.toLocaleString("en-US"));
    });

    step("sorting tables by clicking their headers");
    // Clicks header `column` (0-based) of table `box`; resolves with the cells and its aria-sort.
    const clickHeader = async (box, column) => {
      await page.click(box + " th:nth-child(" + (column + 1) + ")");
      return page.$eval(box + " table", (t, c) => ({
        sort: t.querySelectorAll("th")[c].getAttribute("aria-sort"),
        mark: t.querySelectorAll("th")[c].querySelector(".sort").textContent,
        rows: [...t.querySelectorAll("tbody tr")].map((tr) => [...tr.children].map((td) => td.textContent)),
      }), column);
    };
    const packetsText = (rows) => rows.map((r) => r.packets.toLocaleString("en-US"));
    const byPackets = [...talkers.rows].sort((a, b) => a.packets - b.packets);  // stable
    const ascending = await clickHeader("#talkers", 3);
    assert.equal(ascending.sort, "ascending");
    assert.equal(ascending.mark, "\u25b2");
    assert.deepEqual(ascending.rows.map((r) => r[3]), packetsText(byPackets));
    assert.deepEqual(ascending.rows.map((r) => r[0]), byPackets.map((r) => r.srcaddr));
    const descending = await clickHeader("#talkers", 3);
    assert.equal(descending.sort, "descending");
    assert.equal(descending.mark, "\u25bc");
    const byPacketsDown = [...talkers.rows].sort((a, b) => b.packets - a.packets);
    assert.deepEqual(descending.rows.map((r) => r[3]), packetsText(byPacketsDown));
    // Ports sort as numbers (22 before 443 before 3389), not as text.
    const byPort = [...rejected.rows].sort((a, b) =>
      (a.dstport * 256 + a.protocol) - (b.dstport * 256 + b.protocol));
    const ports = await clickHeader("#rejected", 2);
    assert.deepEqual(ports.rows.map((r) => r[2].split("/")[0]), byPort.map((r) => String(r.dstport)));
    const numbers = ports.rows.map((r) => Number(r[2].split("/")[0]));
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));

    step("clicking a node of the graph");
    const node = await page.evaluate(() => {
      const g = window.vpcflowGraph;
      const n = g.nodes().max((x) => x.degree()).ele;
      document.getElementById("graph").scrollIntoView();
      const box = document.getElementById("graph").getBoundingClientRect();
      const p = n.renderedPosition();
      return { id: n.id(), x: box.left + p.x, y: box.top + p.y };
    });
    await page.mouse.click(node.x, node.y);
    const expected = "addr=" + node.id;
    await page.waitForFunction((f) => document.getElementById("filter").value === f,
      { timeout: DEADLINE_MS }, expected);
    const filtered = await apiJson(base, jsonQuery({ filter: expected, top: "1" }));
    await page.waitForFunction((bytes) => document.getElementById("totals").dataset.bytes === bytes,
      { timeout: DEADLINE_MS }, String(filtered.totals.bytes));
    assert.ok(filtered.totals.bytes < all.totals.bytes);
    assert.ok(page.url().includes("filter=addr%3D"), page.url());
    await page.waitForFunction((f) => document.getElementById("filterShown").textContent.includes(f),
      { timeout: DEADLINE_MS }, expected);

    step("comparing with the previous window (no digest: a message, not a blank)");
    await page.click("#diffButton");
    await page.waitForFunction(() => document.getElementById("diff").textContent.includes("not found"),
      { timeout: DEADLINE_MS });

    await page.click("#clearFilter");
    await page.waitForFunction((bytes) => document.getElementById("totals").dataset.bytes === bytes,
      { timeout: DEADLINE_MS }, String(all.totals.bytes));
    await page.screenshot({ path: args.screenshot, fullPage: true });
    step("screenshot " + args.screenshot);
    assert.deepEqual(pageErrors, []);
    step("passed");
  } catch (e) {
    // What the page said, for the failure's report.
    const pages = browser ? await browser.pages().catch(() => []) : [];
    for (const p of pages) {
      const said = await p.evaluate(() => ["message", "stateText"].map(
        (id) => id + ": " + document.getElementById(id)?.textContent)).catch(() => []);
      console.error("page: " + said.join(" | "));
    }
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (service) service.child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

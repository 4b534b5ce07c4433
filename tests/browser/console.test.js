// Browser test of the security console (run by tests/browser/test_console_ui.py,
// which starts the real stack and seeds scans, counters and held messages):
// an admin at desktop width uses every screen (dashboard ranges and live
// refresh, scan filters and detail, quarantine preview, release, release as
// not spam and bulk delete, audit filters, row links and CSV export, users:
// create, role, disable/enable, password reset), then every screen again at
// 390 px in the dark theme (four of them again at 360 px). Each screen: a screenshot, axe-core with no
// serious or critical violation, and at 390 px no horizontal overflow.
// No console error or page error anywhere.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const base = process.env.IMS_URL;
const admin = process.env.IMS_ADMIN;
const password = process.env.IMS_PASSWORD;
const art = process.env.IMS_ARTIFACTS;
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  console.log("ok   " + what);
}

async function login(page) {
  await page.goto(base + "/ui/");
  await page.fill("#login-form input[name=address]", admin);
  await page.fill("#login-form input[name=password]", password);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#admin-nav", { state: "attached" });
}

/** The console's pages say aria-busy while they load. */
async function settled(page) {
  await page.waitForSelector(".content > section[aria-busy=false]");
}

async function go(page, hash, ready) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction((h) => location.hash === h || decodeURI(location.hash) === h, hash);
  await settled(page);
  await page.waitForSelector(ready);
}

/** axe-core (evaluated through the devtools protocol: the page's CSP stays on). */
async function axe(page, name) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ["violations"] });
    return res.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  });
  check(r.length === 0, `${name}: no serious or critical accessibility violation ${r.join("; ")}`);
}

async function shot(page, name) {
  // the toasts of the steps before would cover the screen
  for (const b of await page.locator("#flash .toast button[aria-label=Dismiss]").all()) await b.click().catch(() => {});
  await page.screenshot({ path: path.join(art, name + ".png"), fullPage: true });
}

async function noOverflow(page, name) {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth,
    document.querySelector(".content").scrollWidth, document.querySelector(".content").clientWidth]);
  check(w[0] <= w[1] && w[2] <= w[3], `${name}: no horizontal overflow at ${w[1]} px (page ${w[0]}, content ${w[2]}/${w[3]})`);
}

async function screen(page, name, phone) {
  await axe(page, name);
  if (phone) await noOverflow(page, name);
  await shot(page, name + (phone ? "-390" : ""));
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const errors = [];
  const watch = (page) => {
    page.on("pageerror", (e) => errors.push("pageerror: " + e));
    page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
  };
  try {
    // ---- desktop, light
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light", acceptDownloads: true });
    const page = await ctx.newPage();
    watch(page);
    const remote = [];
    page.on("request", (r) => { if (!r.url().startsWith(base)) remote.push(r.url()); });
    page.on("dialog", (d) => d.accept());
    await login(page);
    check((await page.locator("#admin-nav a").count()) === 5, "the console's five screens in the navigation");

    // dashboard
    await go(page, "#/admin/dashboard", "#chart-outcome");
    const tiles = await page.locator("#dash-tiles .tile").allTextContents();
    check(tiles[0] === "28messages scanned", "28 messages scanned in 24 h " + JSON.stringify(tiles));
    check(tiles[2].startsWith("4held in quarantine now"), "quarantine size shown");
    check(tiles[3].startsWith("8clicks on rewritten links (1 blocked)"), "8 clicks on rewritten links");
    check((await page.textContent("#auth-rates")).includes("SPF 50.0 %"), "SPF failure rate (fail + softfail)");
    check((await page.textContent("#top-senders")).includes("news@example.org"), "top senders");
    check((await page.textContent("#top-domains")).includes("bad.example"), "top sender domains");
    check((await page.textContent("#top-targets")).includes("alice@example.test"), "most targeted users");
    check((await page.textContent("#top-symbols")).includes("SVM_SPAM"), "top symbols");
    check((await page.getAttribute("#chart-outcome", "aria-label")).includes("delivered 12"), "outcome chart says delivered, not accept");
    check(await page.getAttribute("#live-toggle", "aria-pressed") === "true", "live refresh on");
    await screen(page, "dashboard-24h");
    // keyboard: the range picker
    await page.focus("[data-range='1h']");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => location.hash.includes("range=1h"));
    await page.waitForSelector("[data-range='1h'][aria-pressed=true]");
    check(true, "range picker works from the keyboard (1 hour)");
    await page.click("[data-range='7d']");
    await page.waitForSelector("[data-range='7d'][aria-pressed=true]");
    await page.waitForSelector("#chart-outcome");
    await screen(page, "dashboard-7d");
    await page.click("#live-toggle");
    check(await page.getAttribute("#live-toggle", "aria-pressed") === "false", "live refresh can be paused");
    await page.click("#top-senders a >> text=phisher@bad.example");
    await page.waitForSelector("#admin-scans table");
    check((await page.locator("#admin-scans tbody tr").count()) === 6, "a top sender links to their 6 scans");

    // scans: pickers and filters
    await go(page, "#/admin/scans", "#admin-scans tbody tr");
    check((await page.locator("#admin-scans tbody tr").count()) === 28, "all 28 scans listed");
    check((await page.locator("#scan-filters select[name=symbol] option").count()) > 20, "symbol picker lists the symbols");
    await page.selectOption("#scan-filters select[name=action]", "reject");
    await page.selectOption("#scan-filters select[name=verdict]", "spam");
    await page.selectOption("#scan-filters select[name=symbol]", "DMARC_POLICY_REJECT");
    await page.click("#scan-filters button[type=submit]");
    await page.waitForFunction(() => location.hash.includes("action=reject"));
    await settled(page);
    await page.waitForFunction(() => document.querySelectorAll("#admin-scans tbody tr").length === 6);
    const outcomes = await page.locator("#admin-scans tbody td[data-label=Outcome]").allTextContents();
    check(outcomes.every((o) => o === "rejected"), "outcome picker: only rejected scans, labelled rejected");
    const opinions = await page.locator("#admin-scans tbody td[data-label=\"Classifier's opinion\"]").allTextContents();
    check(opinions.every((o) => o.startsWith("spam (spam probability ")), "the classifier's opinion apart, as spam probability");
    await go(page, "#/admin/scans?ip=192.0.2.10", "#admin-scans tbody tr");
    check((await page.locator("#admin-scans tbody tr").count()) === 6, "client IP filter");
    check((await page.inputValue("#scan-filters input[name=ip]")) === "192.0.2.10", "the filter shows in its field");
    const from = Date.now() - 30 * 60 * 1000;
    await go(page, "#/admin/scans?from=" + from, "#admin-scans tbody tr");
    check((await page.locator("#admin-scans tbody tr").count()) === 9, "time range filter (last 30 minutes: 5 scans + 4 held)");
    await screen(page, "scans");

    // one scan
    await go(page, "#/admin/scans?action=reject", "#admin-scans tbody tr");
    await page.locator("#admin-scans tbody tr").first().locator("td[data-label=Subject] a").click();
    await page.waitForSelector("#scan-symbols");
    check((await page.textContent("#scan-symbols")).includes("DMARC_POLICY_REJECT"), "scan detail lists every symbol");
    check((await page.textContent("#scan-auth")).includes("SPF fail"), "scan detail shows the auth results");
    check((await page.textContent("#admin-scan")).includes("Timings"), "scan detail shows timings");
    check((await page.textContent("#scan-headers")).includes("from mx.spam.example"), "scan detail shows the headers");
    check((await page.textContent("#admin-scan h1")).includes("<b>not bold</b>"), "a subject is text, never markup");
    await screen(page, "scan-detail");
    await page.click("text=x@spam.example (other scans)");
    await page.waitForFunction(() => location.hash.includes("sender=x%40spam.example") || location.hash.includes("sender=x@spam.example"));
    await page.waitForSelector("#admin-scans tbody tr");
    check((await page.locator("#admin-scans tbody tr").count()) === 6, "the sender's other scans");

    // quarantine
    await go(page, "#/admin/quarantine", "#quarantine-table tbody tr");
    check((await page.locator("#quarantine-table tbody tr").count()) === 4, "4 held messages");
    await screen(page, "quarantine");
    // an HTML message: previewed in a sandboxed frame, its script never runs,
    // its remote image never loads
    await page.click("#quarantine-table a >> text=Held html: your parcel");
    await page.waitForSelector("#preview-body iframe.html-body");
    const frame = page.frameLocator("#preview-body iframe.html-body");
    await frame.locator("b").waitFor();
    check((await frame.locator("b").textContent()) === "parcel", "the HTML preview shows the sanitised HTML");
    check((await frame.locator("script").count()) === 0 && (await frame.locator("img").count()) === 0, "no script, no image in the preview");
    check((await page.getAttribute("#preview-body iframe.html-body", "sandbox")).split(" ").indexOf("allow-scripts") < 0, "the preview frame runs no script");
    check(remote.length === 0, "nothing remote was asked for " + remote.join(" "));
    await screen(page, "quarantine-preview-html");
    await go(page, "#/admin/quarantine", "#quarantine-table tbody tr");
    await page.locator("#quarantine-table tbody tr").first().locator("td[data-label=Subject] a").click();
    await page.waitForSelector("#preview-body");
    check((await page.textContent("#preview-body")).includes("Pay now"), "preview shows the text");
    check((await page.textContent("#preview-headers")).includes("Subject"), "preview shows the headers");
    await screen(page, "quarantine-preview");
    await page.click("#admin-quarantine-detail [data-act=notspam]");
    await page.waitForSelector("#quarantine-table tbody tr");
    await page.waitForFunction(() => document.querySelectorAll("#quarantine-table tbody tr").length === 3);
    check((await page.textContent("#flash")).includes("released and reported as not spam"), "release and report as not spam");
    await page.locator("#quarantine-table tbody tr").first().locator("input[type=checkbox]").check();
    await page.click(".bulk-bar [data-act=release]");
    await page.waitForFunction(() => document.querySelectorAll("#quarantine-table tbody tr").length === 2);
    check(true, "release one from the list");
    await page.check("#q-select-all");
    await page.click(".bulk-bar [data-act=delete]");
    await page.waitForSelector("#admin-quarantine .empty");
    check((await page.textContent("#admin-quarantine .empty")) === "Nothing is held.", "bulk delete empties the quarantine");

    // users
    await go(page, "#/admin/users", "#users-table");
    await page.fill("#user-create input[name=address]", "carol@example.test");
    await page.fill("#user-create input[name=password]", "a long enough password");
    await page.click("#user-create button[type=submit]");
    await page.waitForSelector("#users-table tr[data-address='carol@example.test']");
    check(true, "an account is created");
    await screen(page, "users");
    await go(page, "#/admin/users/alice@example.test", "#user-state");
    await page.waitForSelector("#admin-user table");
    check((await page.locator("#admin-user table").first().locator("tbody tr").count()) === 10, "the user's recent scans");
    await page.click("#user-disable");
    await page.waitForFunction(() => document.querySelector("#user-state").textContent === "disabled");
    check(true, "disable");
    await page.click("#user-disable");
    await page.waitForFunction(() => document.querySelector("#user-state").textContent === "active");
    check(true, "enable");
    await page.selectOption("#user-role-select", "admin");
    await page.waitForFunction(() => document.querySelector("#user-role").textContent === "admin");
    check(true, "role changed to admin");
    await page.selectOption("#user-role-select", "user");
    await page.waitForFunction(() => document.querySelector("#user-role").textContent === "user");
    await page.click("#user-password button[type=submit]");
    await page.waitForSelector("#generated-password");
    check((await page.textContent("#generated-password")).length === 24, "a generated password, shown once");
    await screen(page, "user-detail");

    // audit
    await go(page, "#/admin/audit?type=admin", "#audit-table");
    const ops = await page.locator("#audit-table td[data-label=What]").allTextContents();
    for (const op of ["user.password", "user.role", "user.disable", "user.enable", "user.create", "quarantine.delete", "quarantine.release"])
      check(ops.some((o) => o.startsWith(op)), "audit shows " + op);
    await page.fill("#audit-filters input[name=actor]", "nobody@example.test");
    await page.click("#audit-filters button[type=submit]");
    await page.waitForSelector("#admin-audit .empty");
    check(true, "audit filter by actor");
    await go(page, "#/admin/audit?type=admin&actor=" + admin, "#audit-table");
    await screen(page, "audit");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#audit-csv")]);
    const csv = fs.readFileSync(await download.path(), "utf8");
    check(csv.startsWith("stream_id,") && csv.includes("user.password"), "CSV export");
    await page.locator("#audit-table tr", { hasText: "user.disable" }).first().locator("td[data-label=About] a").click();
    await page.waitForSelector("#admin-user");
    check(page.url().includes("#/admin/users/alice"), "an audit row links to the user");
    await go(page, "#/admin/audit?type=scan", "#audit-table");
    await page.locator("#audit-table td[data-label=About] a").first().click();
    await page.waitForSelector("#scan-symbols");
    check(true, "an audit row links to the scan");
    await ctx.close();

    // ---- 390 px, dark: every screen again
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: "dark", isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    watch(p);
    await login(p);
    check(await p.evaluate(() => matchMedia("(prefers-color-scheme: dark)").matches), "dark theme");
    await go(p, "#/admin/dashboard", "#chart-outcome");
    await screen(p, "dashboard", true);
    await go(p, "#/admin/scans", "#admin-scans tbody tr");
    await screen(p, "scans", true);
    await p.locator("#admin-scans tbody tr").first().locator("td[data-label=Subject] a").click();
    await p.waitForSelector("#scan-symbols");
    await screen(p, "scan-detail", true);
    await go(p, "#/admin/quarantine", "#admin-quarantine .empty");
    await screen(p, "quarantine", true);
    await go(p, "#/admin/audit", "#audit-table");
    await screen(p, "audit", true);
    await go(p, "#/admin/users", "#users-table");
    await screen(p, "users", true);
    await go(p, "#/admin/users/alice@example.test", "#admin-user table");
    await screen(p, "user-detail", true);
    // and the narrowest phones: 360 px
    await p.setViewportSize({ width: 360, height: 740 });
    for (const [h, ready] of [["#/admin/dashboard", "#chart-outcome"], ["#/admin/scans", "#admin-scans tbody tr"],
      ["#/admin/audit", "#audit-table"], ["#/admin/users/alice@example.test", "#admin-user table"]]) {
      await go(p, h, ready);
      await noOverflow(p, h + " at 360 px");
    }
    await phone.close();

    check(errors.length === 0, "no console or page errors " + errors.join(" | "));
  } catch (e) {
    console.log("FAIL " + e.message);
    if (errors.length) console.log("errors: " + errors.join(" | "));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();

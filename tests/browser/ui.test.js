// Browser test of the ims web UI (webui/, run by tests/browser/test_ui.py,
// which starts redis-server, Dovecot, ims-webapi and SMTP/LMTP sinks and
// seeds the data). A user, at desktop width and at 390 px: signs in, reads
// the inbox (unread counts, pages both ways, keys), opens a hostile HTML
// message (no script runs, nothing remote loads), reads the "why" panel,
// reports spam (a move to Junk) and back, flags, searches, deletes with undo,
// composes with an attachment, replies, releases what is held for them and
// blocks a sender; an admin sees the console's place. Every main screen is
// screenshotted (IMS_SHOTS), checked with axe-core (no serious or critical
// violations) and, at 390 px, for horizontal overflow; the console must
// stay free of errors (CSP violations included).
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const base = process.env.IMS_URL;
const user = process.env.IMS_USER;
const admin = process.env.IMS_ADMIN;
const password = process.env.IMS_PASSWORD;
const hostileSubject = process.env.IMS_SUBJECT;
const shots = process.env.IMS_SHOTS;
const pixel = process.env.IMS_PIXEL; // a loopback image server that counts its hits
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const started = Date.now();
let current = null; // the page in use, for a screenshot when a step fails
let expect401 = false; // while the test hands the UI refused tokens
let expectBlocked = false; // while the test puts unsanitised HTML into the frame
const blocked = [];

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  console.log("ok   " + what);
}

function watch(page, errors, requests) {
  page.on("pageerror", (e) => errors.push("pageerror: " + e));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (expect401 && /status of 401/.test(m.text())) return; // the refused tokens below
    if (expectBlocked) return void blocked.push(m.text()); // the frame test below
    errors.push("console: " + m.text());
  });
  page.on("dialog", (d) => {
    errors.push("dialog: " + d.message());
    d.dismiss();
  });
  // a request counts when it left the browser: answered, or failed for a
  // reason other than being blocked (CSP, sandbox) before it went out
  const offsite = (r) => {
    const u = new URL(r.url());
    return !["127.0.0.1", "localhost"].includes(u.hostname) && !["data:", "blob:", "about:"].includes(u.protocol);
  };
  page.on("requestfinished", (r) => offsite(r) && requests.push(r.url()));
  page.on("requestfailed", (r) => {
    const why = (r.failure() && r.failure().errorText) || "";
    if (offsite(r) && !/BLOCKED|csp/i.test(why)) requests.push(r.url() + " (" + why + ")");
  });
}

async function shot(page, name) {
  const file = path.join(shots, name + ".png");
  await page.screenshot({ path: file, fullPage: false });
}

async function axe(page, name) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ["violations"] });
    return res.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  });
  check(r.length === 0, `${name}: no serious or critical accessibility violations ${r.join("; ")}`);
}

async function noOverflow(page, name) {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  check(w[0] <= w[1], `${name}: no horizontal overflow at ${w[1]} px (scrollWidth ${w[0]})`);
  // nor anything cut off at the right inside the content (which scrolls on its own)
  const cut = await page.evaluate(() => {
    const clipped = (e) => {
      for (let p = e.parentElement; p && !p.classList.contains("content"); p = p.parentElement)
        if (getComputedStyle(p).overflowX !== "visible") return true;
      return false;
    };
    return [...document.querySelectorAll(".content *")]
      .filter((e) => {
        const r = e.getBoundingClientRect();
        const card = e.parentElement && e.parentElement.closest(".card");
        const edge = Math.min(innerWidth, card ? card.getBoundingClientRect().right : innerWidth);
        return r.width > 0 && r.height > 0 && r.right > edge + 1 && !clipped(e);
      })
      .slice(0, 3)
      .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined ? "." + e.className : ""));
  });
  check(cut.length === 0, `${name}: nothing reaches past the right edge (of the screen or its card) ${cut.join(" ")}`);
}

async function screen(page, name, opts = {}) {
  await shot(page, name);
  if (opts.axe !== false) await axe(page, name);
  if (opts.phone) await noOverflow(page, name);
}

async function login(page, address) {
  await page.goto(base + "/ui/");
  await page.fill("#login-form input[name=address]", address);
  await page.fill("#login-form input[name=password]", password);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#folders li", { state: "attached" });
}

const rows = (page) => page.locator("#mail-list > li");
const row = (page, text) => page.locator("#mail-list > li", { hasText: text });
async function toastSays(page, text) {
  await page.waitForSelector(`#flash .toast:has-text("${text}")`);
}
async function openFolder(page, name) {
  await page.click(`#folders a[data-folder="${name}"]`);
  await page.waitForFunction(
    (n) => {
      const empty = document.querySelector(".list-pane .empty");
      return location.hash.startsWith("#/mail/" + n) && (document.querySelector("#mail-list") || (empty && !/Loading/.test(empty.textContent)));
    },
    name,
  );
}

async function desktop(browser, errors, requests) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 860 }, colorScheme: "light" });
  const page = await ctx.newPage();
  current = page;
  watch(page, errors, requests);
  const resp = await page.goto(base + "/ui/");
  const csp = resp.headers()["content-security-policy"] || "";
  check(/script-src|default-src 'self'/.test(csp) && !csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"),
    "the UI is served with the strict CSP (" + csp + ")");
  const html = await resp.text();
  check(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) && !/\sstyle=/i.test(html), "index.html has no inline script or style");
  await page.waitForSelector("#login-form");
  await screen(page, "desktop-signin");
  await login(page, user);
  await page.waitForSelector("#mail-list");
  check((await rows(page).count()) === 50, "the inbox shows a page of 50");
  check((await page.textContent("#folders a[data-folder=INBOX]")).includes("58"), "the INBOX's unread count (58)");
  check((await page.textContent("#folders")).includes("Junk") && (await page.textContent("#folders")).includes("Trash"), "folders from Dovecot");
  check((await page.locator("#admin-nav").count()) === 0, "no console for a user");
  check((await row(page, "Newsletter 54").count()) === 1 && (await row(page, "First hello").count()) === 0, "newest first");
  await screen(page, "desktop-inbox");
  // pages both ways, and Back
  await page.click("#older");
  await page.waitForSelector('#mail-list > li:has-text("First hello")');
  check((await rows(page).count()) === 8, "the second page holds the rest (8)");
  check(!(await page.isDisabled("#newer")), "Newer is enabled on page 2");
  await page.click("#newer");
  await page.waitForSelector('#mail-list > li:has-text("Newsletter 54")');
  check(true, "Newer returns to the first page");
  await page.goBack();
  await page.waitForSelector('#mail-list > li:has-text("First hello")');
  check(true, "Back returns to page 2");
  await page.goBack();
  await page.waitForSelector('#mail-list > li:has-text("Newsletter 54")');
  // the hostile message, found by a search
  await page.fill("#q", "pills");
  await page.press("#q", "Enter");
  await page.waitForFunction(() => location.hash.includes("q=pills") && document.querySelectorAll("#mail-list > li").length === 1);
  check(true, "search finds the message by its subject");
  check((await row(page, "Cheap pills").locator(".badge").textContent()) === "spam", "a plain 'spam' marker, no score");
  await row(page, "Cheap pills").locator("a.open").click();
  await page.waitForSelector("#message #subject");
  check((await page.textContent("#subject")) === hostileSubject, "the subject is text, not markup");
  const frame = page.frameLocator("iframe.html-body");
  await frame.locator("b").waitFor();
  check((await frame.locator("b").textContent()) === "bold", "the HTML part is shown");
  check((await frame.locator("script, img, iframe").count()) === 0, "no script, image or frame in the shown HTML");
  const sandbox = await page.getAttribute("iframe.html-body", "sandbox");
  check(!sandbox.includes("allow-scripts"), "the HTML frame may not run scripts (sandbox=" + sandbox + ")");
  // the frame alone (without the server's sanitiser) runs no script and
  // loads nothing remote: its sandbox and the inherited CSP stop both
  expectBlocked = true;
  await page.evaluate(() => {
    const f = document.createElement("iframe");
    f.id = "raw-frame";
    f.setAttribute("sandbox", document.querySelector("iframe.html-body").getAttribute("sandbox"));
    f.srcdoc = '<img src="http://203.0.113.9/pixel.png"><script>parent.pwned = 1</script>' +
      '<img src=x onerror="parent.pwned = 2">';
    document.body.append(f);
  });
  await page.waitForTimeout(500);
  expectBlocked = false;
  check((await page.evaluate(() => window.pwned)) === undefined, "unsanitised HTML in the message frame runs no script");
  check(blocked.some((t) => /Blocked script execution|sandboxed/i.test(t)), "the sandbox blocked the script: " + blocked.join(" | "));
  await page.evaluate(() => document.getElementById("raw-frame").remove());
  const hrefs = await frame.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href") || ""));
  check(hrefs.every((h) => !/^javascript:/i.test(h)), "no javascript: link");
  check((await page.textContent("#why-outcome")) === "tagged as spam", "the outcome in plain words (tagged as spam)");
  check((await page.textContent("#why")).includes("spam probability"), "the classifier's opinion is a spam probability");
  check(!(await page.isVisible("#symbols")), "the raw symbols are folded away");
  await screen(page, "desktop-message");
  await page.click("#why summary");
  check((await page.textContent("#symbols")).includes("SVM_SPAM"), "one click shows the raw symbols");
  // report spam (a move to Junk), then not spam (back)
  await page.click("#report-spam");
  await toastSays(page, "moved to Junk");
  await openFolder(page, "Junk");
  await row(page, "Cheap pills").locator("a.open").click();
  await page.waitForSelector("#not-spam");
  await page.click("#not-spam");
  await toastSays(page, "moved to Inbox");
  check(true, "report spam moves to Junk, not spam moves back");
  // keys: j/k and Enter, u back to the list
  await openFolder(page, "INBOX");
  await page.waitForSelector("#mail-list");
  await page.locator("#mail-list > li").first().locator("a.open").focus();
  for (const [key, at] of [["j", 1], ["j", 2], ["k", 1]]) {
    await page.keyboard.press(key);
    await page.waitForSelector(`#mail-list > li.focused[data-index="${at}"]`, { timeout: 5000 }).catch(async (e) => {
      const st = await page.evaluate(() => [document.querySelector("li.focused") && document.querySelector("li.focused").dataset.index,
        document.activeElement && document.activeElement.outerHTML.slice(0, 120), location.hash]);
      throw new Error(`after ${key}: focused ${st.join(" | ")}: ${e.message}`);
    });
  }
  const second = await rows(page).nth(1).getAttribute("data-id");
  await page.keyboard.press("Enter");
  await page.waitForFunction((id) => location.hash.includes(id) && document.querySelector("#message #subject"), second);
  check(true, "j/k move and Enter opens");
  await page.keyboard.press("u");
  await page.waitForFunction(() => !document.querySelector("#message"));
  check(true, "u returns to the list");
  await page.keyboard.press("?");
  await page.waitForSelector("#keyhelp[open]");
  await axe(page, "keyboard help");
  await page.keyboard.press("Escape");
  await page.waitForSelector("#keyhelp:not([open])", { state: "attached" });
  check((await page.title()).startsWith("("), "the title counts the unread mail (" + (await page.title()) + ")");
  check(true, "? lists the keys, Esc closes it");
  // flag from the list; Back after opening a message returns to the list
  await page.fill("#q", "First hello");
  await page.press("#q", "Enter");
  await page.waitForFunction(() => document.querySelectorAll("#mail-list > li").length === 1);
  await row(page, "First hello").locator("button.star").click();
  await page.waitForSelector('#mail-list > li:has-text("First hello") button.star.on');
  check(true, "flagged from the list");
  await row(page, "First hello").locator("a.open").click();
  await page.waitForSelector("#message #subject");
  check((await page.getAttribute("#flag", "aria-pressed")) === "true", "the reader shows the flag");
  await page.reload();
  await page.waitForSelector("#message #subject");
  check((await page.textContent("#subject")) === "First hello", "a reload keeps the open message (and the session)");
  await page.goBack();
  await page.waitForFunction(() => !document.querySelector("#message") && location.hash.includes("q=First"));
  check(true, "Back returns to the list");
  // delete with undo, then delete for real (into Trash)
  await row(page, "First hello").locator("input[type=checkbox]").check();
  await page.waitForSelector(".bulkbar");
  await page.click(".bulkbar button.danger");
  await toastSays(page, "Moved to Trash");
  check((await rows(page).count()) === 0, "deleted messages leave the list at once");
  await page.click('#flash button:has-text("Undo")');
  await page.waitForSelector('#mail-list > li:has-text("First hello")');
  check(true, "Undo brings it back");
  await row(page, "First hello").locator("a.open").click();
  await page.waitForSelector("#message #delete");
  await page.click("#delete");
  await toastSays(page, "Moved to Trash");
  await page.waitForTimeout(6500);
  await openFolder(page, "Trash");
  await page.waitForSelector('#mail-list > li:has-text("First hello")');
  check(true, "after the undo time it is in Trash");
  await page.click("#empty-trash");
  await page.waitForSelector("#empty-trash-yes");
  await page.click("#empty-trash-yes");
  await toastSays(page, "Trash emptied");
  await page.waitForSelector('.list-pane .empty:has-text("No messages here")');
  check(true, "Empty Trash asks once more, then empties it");
  // reply: threaded, prefilled
  await openFolder(page, "INBOX");
  await page.fill("#q", "Second hello");
  await page.press("#q", "Enter");
  await page.waitForFunction(() => document.querySelectorAll("#mail-list > li").length === 1);
  await row(page, "Second hello").locator("a.open").click();
  await page.waitForSelector("#reply");
  await page.click("#reply");
  await page.waitForSelector("#compose");
  check((await page.inputValue("#c-subject")) === "Re: Second hello", "reply: Re: subject");
  check((await page.inputValue("#c-to")).includes("carol@example.org"), "reply: to the sender");
  check((await page.inputValue("#c-text")).includes("> Hello there."), "reply: quoted text");
  await page.click("#send");
  await toastSays(page, "Sent");
  await page.waitForFunction(() => !document.querySelector("#compose"));
  // compose with Cc and an attachment
  await page.click("#compose-btn");
  await page.waitForSelector("#compose");
  await page.fill("#c-to", "dan@example.net");
  await page.click("text=Cc/Bcc");
  await page.fill("#c-cc", "eve@example.org");
  await page.fill("#c-subject", "Lunch on Friday");
  await page.fill("#c-text", "See the menu.");
  await page.setInputFiles("#c-files", { name: "menu.txt", mimeType: "text/plain", buffer: Buffer.from("menu: soup\n") });
  await page.waitForSelector('.att-list li:has-text("menu.txt")');
  await screen(page, "desktop-compose");
  await page.click("#save-draft");
  await toastSays(page, "Draft saved");
  await openFolder(page, "Drafts");
  await page.waitForSelector('#mail-list > li:has-text("Lunch on Friday")');
  check(true, "the draft is in Drafts");
  await row(page, "Lunch on Friday").locator("a.open").click();
  await page.waitForSelector("#message #subject");
  await page.click("#edit-draft");
  await page.waitForSelector("#compose");
  check((await page.inputValue("#c-subject")) === "Lunch on Friday", "a draft opens in compose again");
  await page.waitForSelector('.att-list li:has-text("menu.txt")');
  check((await page.locator(".att-list li").count()) === 1, "the draft's attachment is back in compose");
  await page.click("#send");
  await page.waitForFunction(() => location.hash.startsWith("#/mail/Drafts"));
  await toastSays(page, "Sent");
  await openFolder(page, "Sent");
  await page.waitForSelector('#mail-list > li:has-text("Lunch on Friday")');
  check(true, "the sent message is in Sent");
  await row(page, "Lunch on Friday").locator("a.open").click();
  await page.waitForSelector('.attachments li:has-text("menu.txt")');
  check((await page.locator(".attachments li").count()) === 1, "sending the draft kept its attachment (once)");
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click('.attachments button[aria-label="Download menu.txt"]')]);
  const got = fs.readFileSync(await dl.path(), "utf8");
  check(got === "menu: soup\n", "an attachment downloads with its content");
  await openFolder(page, "Drafts");
  // the list may show its last page for a moment before the reload
  await page
    .waitForFunction(() => ![...document.querySelectorAll("#mail-list > li")].some((li) => li.textContent.includes("Lunch on Friday")), null, { timeout: 5000 })
    .catch(() => {});
  check((await row(page, "Lunch on Friday").count()) === 0, "sending removed the draft");
  // what is held for the user
  await page.click("#nav-held");
  await page.waitForSelector("#held-list li");
  const held = await page.textContent("#held-list");
  check(held.includes("held for alice") && !held.includes("evil@example.org"), "the user sees only what is held for them");
  await screen(page, "desktop-held");
  await page.click('#held-list a:has-text("held for alice")');
  await page.waitForSelector("#held-message #release");
  await screen(page, "desktop-held-message");
  await page.click("#release");
  await toastSays(page, "Released");
  await page.waitForSelector('.page .empty:has-text("Nothing is held")');
  check(true, "the user releases it");
  // sender list
  await page.click("#nav-senders");
  await page.fill("#s-entry", "Spam@Bad.Example");
  await page.click(".add-sender button[type=submit]");
  await page.waitForSelector('table.senders td:has-text("spam@bad.example")');
  check((await page.textContent("table.senders")).includes("blocked"), "a user blocks a sender");
  await screen(page, "desktop-senders");
  await page.click('table.senders button:has-text("Remove")');
  await page.waitForSelector('.page .empty:has-text("Your list is empty")');
  check(true, "and removes it again");
  // dark theme
  await openFolder(page, "INBOX");
  await page.click("#theme-toggle");
  check((await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "the theme toggle switches to dark");
  await screen(page, "desktop-inbox-dark");
  await page.click("#theme-toggle");
  // the console's routes refuse a user
  await page.goto(base + "/ui/#/admin/dashboard");
  await page.waitForSelector('.content .empty:has-text("administrators")');
  check(true, "a user gets no console");
  await page.click("#logout");
  await page.waitForSelector("#login-form");
  check(true, "sign out");
  await login(page, admin);
  await page.waitForSelector("#admin-nav a");
  check(true, "an admin sees the console's navigation");
  await ctx.close();
}

// remote images: none is fetched until the user asks, for that message
async function remoteImages(browser, errors, requests) {
  const hits = async () => parseInt(await (await fetch(pixel + "/count")).text(), 10);
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const page = await ctx.newPage();
  current = page;
  watch(page, errors, requests);
  await login(page, "erin@example.test");
  await page.waitForSelector("#mail-list");
  await row(page, "Pictures from the trip").locator("a.open").click();
  const frame = page.frameLocator("iframe.html-body");
  await frame.locator("b").waitFor();
  await page.waitForSelector("#show-images");
  await page.waitForTimeout(500);
  check((await frame.locator("img").count()) === 0 && (await hits()) === 0, "remote images are off: no request before the click");
  await page.click("#show-images");
  await frame.locator("img").waitFor();
  await page.waitForFunction(() => {
    const f = document.querySelector("iframe.html-body");
    const img = f && f.contentDocument && f.contentDocument.querySelector("img");
    return img && img.complete && img.naturalWidth === 1;
  });
  await page.waitForTimeout(300);
  check((await hits()) === 1, "after \"Show remote images\" the image loads, once");
  check((await page.locator("#show-images").count()) === 0, "the offer is gone once accepted");
  const sandbox = await page.getAttribute("iframe.html-body", "sandbox");
  check(!sandbox.includes("allow-scripts"), "the frame with images is still sandboxed without scripts");
  const src = await page.getAttribute("iframe.html-body", "src");
  check(/^\/frame\/[A-Za-z0-9_-]{43}$/.test(src || ""), "the frame is the server's one-use document (" + src + ")");
  await screen(page, "desktop-images");
  // reopening the message: off again
  await page.goBack();
  await page.waitForSelector("#mail-list");
  await row(page, "Pictures from the trip").locator("a.open").click();
  await page.waitForSelector("#show-images");
  await page.waitForTimeout(300);
  check((await hits()) === 1, "reopened, the message's images are off again");
  await ctx.close();
}

async function phone(browser, errors, requests) {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: "dark", reducedMotion: "reduce" });
  const page = await ctx.newPage();
  current = page;
  watch(page, errors, requests);
  await page.goto(base + "/ui/");
  await page.waitForSelector("#login-form");
  await screen(page, "phone-signin", { phone: true });
  await login(page, user);
  await page.waitForSelector("#mail-list");
  check(!(await page.isVisible("#folders")), "at 390 px the folders are in a drawer");
  await screen(page, "phone-inbox", { phone: true });
  await page.click(".menu-btn");
  await page.waitForSelector("#folders", { state: "visible" });
  await screen(page, "phone-drawer", { phone: true, axe: false });
  await page.click('#folders a[data-folder="INBOX"]');
  await page.waitForSelector("#folders", { state: "hidden" });
  await rows(page).first().locator("a.open").click();
  await page.waitForSelector("#message #subject");
  check(!(await page.isVisible("#mail-list")), "at 390 px the message replaces the list");
  await screen(page, "phone-message", { phone: true });
  await page.goBack();
  await page.waitForSelector("#mail-list");
  check(true, "Back returns to the list");
  // actions at 390 px: report spam from the reader, bulk select in the list
  await rows(page).first().locator("a.open").click();
  await page.waitForSelector("#report-spam");
  await page.click("#report-spam");
  await toastSays(page, "moved to Junk");
  await page.waitForSelector("#mail-list");
  check(true, "at 390 px report spam is in reach");
  await rows(page).nth(0).locator("input[type=checkbox]").check();
  await rows(page).nth(1).locator("input[type=checkbox]").check();
  await page.waitForSelector(".bulkbar");
  await noOverflow(page, "phone-bulk");
  await page.click('.bulkbar button:has-text("Mark unread")');
  await toastSays(page, "Marked as unread (2)");
  check(true, "at 390 px bulk actions work");
  // an expired access token is refreshed silently; without a session, sign-in
  expect401 = true;
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem("ims.session"));
    s.access = "x.y.z";
    sessionStorage.setItem("ims.session", JSON.stringify(s));
  });
  await page.reload();
  await page.waitForSelector("#mail-list");
  check((await page.evaluate(() => JSON.parse(sessionStorage.getItem("ims.session")).access)) !== "x.y.z",
    "a refused access token is replaced through the refresh token");
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem("ims.session"));
    s.access = "x.y.z";
    s.refresh = "rt1.nope";
    sessionStorage.setItem("ims.session", JSON.stringify(s));
  });
  await page.reload();
  await page.waitForSelector("#login-form");
  check(true, "a session that cannot be refreshed goes back to sign-in");
  expect401 = false;
  await login(page, user);
  await page.goto(base + "/ui/#/compose");
  await page.waitForSelector("#compose");
  await screen(page, "phone-compose", { phone: true });
  await page.goto(base + "/ui/#/quarantine");
  await page.waitForSelector(".page h1");
  await screen(page, "phone-held", { phone: true });
  await page.goto(base + "/ui/#/settings");
  await page.waitForSelector("#senders");
  await screen(page, "phone-senders", { phone: true });
  await ctx.close();
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const errors = [];
  const requests = [];
  try {
    await desktop(browser, errors, requests);
    await remoteImages(browser, errors, requests);
    await phone(browser, errors, requests);
    check(requests.length === 0, "nothing loaded from anywhere but ims-webapi: " + requests.join(" "));
    check(errors.length === 0, "no console errors: " + errors.join("; "));
    console.log(`browser test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    if (current) {
      console.error("at " + current.url() + "; screenshot " + path.join(shots, "failure.png"));
      await current.screenshot({ path: path.join(shots, "failure.png") }).catch(() => {});
    }
    throw e;
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error("FAIL " + e.message);
  process.exit(1);
});

// Browser test of the ims web UI (run by tests/browser/test_ui.py, which
// starts redis-server, Dovecot and ims-webapi and seeds the data): a user
// logs in, sees the inbox and the folders with unread counts, opens a
// message (sanitised HTML in a sandboxed frame), reports it as spam (it
// moves to Junk), flags one, searches, deletes one into Trash and empties
// it; the user releases what is held for them and blocks a sender; an admin sees the scan list
// and a scan's symbols, and previews and releases in the quarantine.
"use strict";
const { chromium } = require("playwright-core");

const base = process.env.IMS_URL;
const user = process.env.IMS_USER;
const admin = process.env.IMS_ADMIN;
const password = process.env.IMS_PASSWORD;
const msgSubject = process.env.IMS_SUBJECT;
const scanId = process.env.IMS_SCAN_ID;

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  console.log("ok   " + what);
}

async function login(page, address) {
  await page.goto(base + "/ui/");
  await page.fill("#login-form input[name=address]", address);
  await page.fill("#login-form input[name=password]", password);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#mail-list");
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const errors = [];
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("dialog", (d) => { errors.push("dialog: " + d.message()); d.dismiss(); });

    await login(page, user);
    await page.waitForSelector("#folders");
    const rows = await page.locator("#mail-list tbody tr").count();
    check(rows === 3, "inbox lists the 3 messages (got " + rows + ")");
    check(await page.locator("#admin-nav").isHidden(), "no admin menu for a user");
    check(await page.locator("#login-form").isHidden(), "the sign-in form is gone once signed in");
    await page.locator("#mail-list tbody tr", { hasText: msgSubject }).click();
    await page.waitForSelector("#message #subject");
    check((await page.textContent("#subject")) === msgSubject, "message opens with its subject");
    const frame = page.frameLocator("iframe.html-body");
    await frame.locator("b").waitFor();
    check((await frame.locator("b").textContent()) === "bold", "HTML part shown");
    check(await frame.locator("script").count() === 0, "no script in the shown HTML");
    check((await page.getAttribute("iframe.html-body", "sandbox")) === "", "HTML frame is sandboxed");
    check((await page.locator("#message table").textContent()).includes("SVM_SPAM"), "message shows its symbols");
    await page.click("text=Report spam");
    await page.waitForSelector("#flash:not([hidden])");
    check((await page.textContent("#flash")).includes("moved to Junk"), "report spam moves it to Junk");
    await page.waitForSelector("#mail-list");
    check(await page.locator("#mail-list tbody tr").count() === 2, "the inbox has 2 left");
    await page.click("#folders a[data-folder=Junk]");
    await page.waitForFunction(() => document.querySelector("#view h1") && document.querySelector("#view h1").textContent === "Junk");
    check(await page.locator("#mail-list tbody tr", { hasText: msgSubject }).count() === 1, "it is in Junk");
    check((await page.textContent("#folders")).includes("Junk"), "folder list from Dovecot");
    // flag a message, then find it by a search
    await page.click("#folders a[data-folder=INBOX]");
    await page.waitForFunction(() => document.querySelector("#view h1").textContent === "Inbox");
    check((await page.textContent("#folders")).includes("INBOX (2)"), "unread count of the INBOX");
    await page.locator("#mail-list tbody tr", { hasText: "First hello" }).click();
    await page.waitForSelector("#message #flag");
    await page.click("#message #flag");
    await page.waitForSelector("#mail-list");
    check((await page.locator("#mail-list tbody tr", { hasText: "First hello" }).textContent()).includes("★"),
      "flagged on the list");
    await page.fill("#search input[name=q]", "Second");
    await page.click("#search button");
    await page.waitForFunction(() => location.hash.includes("q=Second") &&
      document.querySelectorAll("#mail-list tbody tr").length === 1);
    check((await page.textContent("#mail-list tbody")).includes("Second hello"), "search finds the message");
    // delete into Trash, then empty it
    await page.locator("#mail-list tbody tr", { hasText: "Second hello" }).click();
    await page.waitForSelector("#message");
    await page.click("#message button.danger");
    await page.waitForSelector("#mail-list");
    check((await page.textContent("#flash")).includes("Trash"), "delete moves to Trash");
    await page.click("#folders a[data-folder=Trash]");
    await page.waitForSelector("#empty-trash");
    check(await page.locator("#mail-list tbody tr").count() === 1, "it is in Trash");
    await page.click("#empty-trash");
    await page.waitForFunction(() => document.querySelectorAll("#mail-list tbody tr").length === 0);
    check(true, "Trash emptied");
    // what is held for the user, and releasing it (LMTP sink)
    await page.click("#nav a[data-nav=held]");
    await page.waitForSelector("#held-list tbody tr");
    const held = await page.textContent("#held-list");
    check(held.includes("held for alice"), "a user sees what is held for them");
    check(!held.includes("evil@example.org"), "and not what is held for others");
    await page.locator("#held-list button", { hasText: "Release" }).click();
    await page.waitForSelector("#view p:has-text('Nothing is held for you')");
    check((await page.textContent("#flash")).includes("Released"), "a user releases their own held message");
    // the user's own sender list
    await page.click("#nav a[data-nav=senders]");
    await page.waitForSelector("#sender-form");
    await page.fill("#sender-form input[name=entry]", "Spam@Bad.Example");
    await page.click("#sender-form button[type=submit]");
    await page.waitForSelector("#sender-list tbody tr:has-text('spam@bad.example')");
    check((await page.textContent("#sender-list")).includes("block"), "a user blocks a sender");
    await page.locator("#sender-list button", { hasText: "Remove" }).click();
    await page.waitForSelector("#view p:has-text('No senders listed')");
    check(true, "and removes it again");
    // admin pages refuse a user
    await page.goto(base + "/ui/#/admin/scans");
    await page.waitForSelector("#view p.error");
    check((await page.textContent("#view")).includes("admin role"), "user sees 403 on admin pages");
    await page.click("#logout");
    await page.waitForSelector("#login-form:not([hidden])");

    await login(page, admin);
    check(await page.locator("#admin-nav").isVisible(), "admin menu for an admin");
    await page.click("text=Scans");
    await page.waitForSelector("#scan-list tbody tr");
    const scans = await page.locator("#scan-list tbody tr").count();
    check(scans >= 4, "admin sees the scans (" + scans + ")");
    await page.locator(`#scan-list tr[data-id="${scanId}"]`).click();
    await page.waitForSelector("#scan #symbols");
    const sym = await page.textContent("#symbols");
    check(sym.includes("SVM_SPAM") && sym.includes("6.00"), "scan detail shows symbols with weights");
    // back to the list, filtered through the form
    await page.click("text=Scans");
    await page.waitForSelector("#scan-filters");
    await page.fill("#scan-filters input[name=verdict]", "spam");
    await page.click("#scan-filters button[type=submit]");
    await page.waitForFunction(() => location.hash.includes("verdict=spam") &&
      document.querySelectorAll("#scan-list tbody tr").length === 2);
    const spam = await page.locator("#scan-list tbody tr").count();
    check(spam === 2, "verdict filter (2 spam, got " + spam + ")");
    await page.click("text=Quarantine");
    await page.waitForSelector("#quarantine-list tbody tr");
    await page.locator("#quarantine-list button", { hasText: "Preview" }).first().click();
    await page.waitForSelector("#quarantine-preview:not([hidden]) pre");
    check((await page.textContent("#quarantine-preview")).includes("Hello there"),
      "admin previews a held message (headers and text)");
    await page.locator("#quarantine-list button", { hasText: "Release" }).first().click();
    await page.waitForSelector("#view p:has-text('Nothing is held')");
    check((await page.textContent("#flash")).includes("Released"), "admin releases a held message");
    await page.click("text=Stats");
    await page.waitForSelector("#totals");
    check((await page.textContent("#totals")).includes("5"), "stats show the totals");
    await page.click("text=Audit");
    await page.waitForSelector("#audit-list tbody tr");
    check((await page.textContent("#audit-list")).includes("quarantine.release"), "audit shows the release");
    check(errors.length === 0, "no page errors: " + errors.join("; "));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error("FAIL " + e.message);
  process.exit(1);
});

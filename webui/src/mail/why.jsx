// "Why is this here?": the scan of a message in plain words. The outcome
// (what ims did: delivered, tagged, quarantined, rejected) is told apart
// from the classifier's opinion (its spam probability, on a gauge); then
// the sender's authentication, the checks that fired and the link checks,
// with the raw symbols one click away.
import { OUTCOME } from "../format.js";

const AUTH_WORDS = {
  pass: "passed",
  fail: "failed",
  softfail: "failed softly (the domain does not vouch for this server)",
  neutral: "neutral (the domain makes no statement)",
  none: "not set up by the sender's domain",
  temperror: "could not be checked (temporary DNS error)",
  permerror: "could not be checked (the domain's record is broken)",
  policy: "not accepted by policy",
  invalid: "failed (the signature does not match)",
};

/** plain words for the symbols ims adds (docs/milter.md) */
const SYMBOLS = {
  SVM_SPAM: "The content classifier thinks this is spam",
  SVM_HAM: "The content classifier thinks this is legitimate",
  HTML_ONLY: "The message is HTML only, without a text version",
  MISSING_FROM: "The message has no From header",
  MULTIPLE_FROM: "The message has several From headers",
  MIME_MALFORMED: "The message's structure is broken",
  MIME_NESTING_LIMIT: "The message nests its parts unusually deep",
  HEADER_LIMIT: "The message has an unusual number of headers",
  VIRUS_FOUND: "The virus scanner found malware in it",
  AV_UNAVAILABLE: "The virus scanner could not be asked",
  AV_SIZE_LIMIT: "Too large for the virus scanner",
  ATTACH_EXECUTABLE: "An attachment is a program",
  BAD_ATTACHMENT_EXT: "An attachment has a dangerous file type",
  DOUBLE_ATTACHMENT_EXT: "An attachment hides its type behind a double extension",
  ATTACH_TYPE_MISMATCH: "An attachment's name does not match what it contains",
  ATTACH_SIZE_LIMIT: "An attachment was too large to inspect",
  OFFICE_MACRO: "An office document contains macros",
  ARCHIVE_ENCRYPTED: "An archive is encrypted, so it cannot be checked",
  ARCHIVE_UNREADABLE: "An archive could not be read",
  ARCHIVE_DEPTH_LIMIT: "Archives nested too deep to inspect",
  ARCHIVE_MEMBER_LIMIT: "An archive holds too many files to inspect",
  ARCHIVE_BYTES_LIMIT: "An archive is too large to inspect",
  PHISH_URL_TEXT_MISMATCH: "A link shows one address but leads to another",
  PHISH_URL_IP_LITERAL: "A link points to a bare IP address",
  PHISH_URL_PUNYCODE: "A link uses an international look-alike address",
  PHISH_DISPLAY_NAME_LOCAL: "The sender's name imitates someone from your organisation",
  BEC_DISPLAY_NAME_LOCAL_USER: "The sender's name is that of a colleague, but the address is outside",
  BEC_LOOKALIKE_DOMAIN: "The sender's domain looks like one of yours",
  BEC_LOOKALIKE_CORRESPONDENT: "The sender's domain looks like one you write to",
  BEC_FIRST_TIME_SENDER: "First message from this sender",
  BEC_REPLY_TO_FREEMAIL: "Replies would go to a free-mail address",
  BEC_REPLY_TO_UNRELATED: "Replies would go to an unrelated address",
  AUTH_FROM_NOT_OWNED: "The sender used an address that is not theirs",
  AUTH_MAIL_FROM_NOT_OWNED: "The sender used an envelope address that is not theirs",
  SENDER_BLOCK: "You (or your organisation) blocked this sender",
  SENDER_ALLOW: "You (or your organisation) allowed this sender",
  INTEL_BLOCK: "The sender or a link is on a threat list",
  INTEL_ALLOW: "The sender is on the trusted list",
  DNSBL_FAIL: "A block list could not be asked",
  DNSBL_LIMIT: "Too many block-list look-ups to do them all",
  LINKS_REWRITTEN: "Links are checked again when you click them",
  LINKS_NOT_REWRITTEN: "Links could not be rewritten for checking",
  MODEL_STALE: "The classifier's newest model did not load; an older one judged this",
};

const isLink = (n) => /^(PHISH_URL|URL|URIBL|DBL|LINK|TEST_DBL)|DBL|URIBL|_URL/.test(n);
const isAuth = (n) => /^(SPF|DKIM|DMARC)_/.test(n);

function symbolWords(s) {
  if (SYMBOLS[s.name]) return SYMBOLS[s.name];
  if (/^DNSBL|_DNSBL|^RBL|DBL/.test(s.name)) return "Listed on a block list" + (s.detail ? ": " + s.detail : "");
  return s.detail ? `${s.name}: ${s.detail}` : s.name;
}

function opinion(p) {
  if (p == null) return "no opinion";
  if (p < 0.2) return "looks legitimate";
  if (p < 0.5) return "probably legitimate";
  if (p < 0.8) return "suspicious";
  return "looks like spam";
}

export function Gauge({ value, label }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  // a half circle: 0 % left, 100 % right
  const a = Math.PI * (1 - pct / 100);
  const x = 50 + 40 * Math.cos(a),
    y = 50 - 40 * Math.sin(a);
  const level = pct < 20 ? "ok" : pct < 50 ? "low" : pct < 80 ? "warn" : "bad";
  return (
    <figure class={"gauge " + level} role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label={label}>
      <svg viewBox="0 0 100 58" width="140" height="82" aria-hidden="true">
        <path class="track" d="M10 50 A40 40 0 0 1 90 50" />
        {pct > 0 && <path class="fill" d={`M10 50 A40 40 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`} />}
      </svg>
      <figcaption>
        <strong>{pct}%</strong> spam probability
      </figcaption>
    </figure>
  );
}

function AuthRow({ name, result, extra }) {
  const r = (result || "none").toLowerCase();
  const good = r === "pass";
  const bad = r === "fail" || r === "softfail" || r === "invalid" || r === "permerror";
  return (
    <li class={good ? "good" : bad ? "bad" : "neutral"}>
      <span class="dot" aria-hidden="true" />
      <span>
        <strong>{name}</strong> {AUTH_WORDS[r] || r}
        {extra ? <span class="muted"> {extra}</span> : null}
      </span>
    </li>
  );
}

export function Why({ scan }) {
  if (!scan)
    return (
      <section class="why card" id="why" aria-label="Why">
        <h2>Security check</h2>
        <p class="muted">No scan for this message (written or sent here, or its scan log has expired).</p>
      </section>
    );
  const symbols = scan.symbols || [];
  const auth = scan.auth || {};
  const fired = symbols.filter((s) => !isAuth(s.name) && !isLink(s.name) && !/^SVM_/.test(s.name));
  const links = symbols.filter((s) => isLink(s.name));
  const outcome = OUTCOME[scan.action] || scan.action || "unknown";
  return (
    <section class="why card" id="why" aria-label="Why">
      <h2>Security check</h2>
      <dl class="why-top">
        <div>
          <dt>What ims did</dt>
          <dd>
            <span class={"badge outcome-" + scan.action} id="why-outcome">
              {outcome}
            </span>
          </dd>
        </div>
        <div>
          <dt>Content classifier</dt>
          <dd>{opinion(scan.probability)}</dd>
        </div>
      </dl>
      {scan.probability != null && <Gauge value={scan.probability} label="Spam probability" />}
      <h3>Sender authentication</h3>
      <ul class="auth">
        <AuthRow name="SPF" result={auth.spf} extra="(is this server allowed to send for the domain?)" />
        {(auth.dkim || []).length ? (
          auth.dkim.map((d, i) => <AuthRow key={i} name={"DKIM signature of " + (d.domain || "?")} result={d.result} />)
        ) : (
          <AuthRow name="DKIM" result="none" extra="(no signature)" />
        )}
        <AuthRow
          name="DMARC"
          result={auth.dmarc}
          extra={auth.dmarc_policy && auth.dmarc_policy !== "none" ? `(the domain asks to ${auth.dmarc_policy} failures)` : ""}
        />
      </ul>
      <h3>Checks that fired</h3>
      {fired.length ? (
        <ul class="fired">
          {fired.map((s, i) => (
            <li key={i} class={s.weight > 0 ? "bad" : s.weight < 0 ? "good" : "neutral"}>
              {symbolWords(s)}
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">None.</p>
      )}
      <h3>Links</h3>
      {links.length ? (
        <ul class="fired">
          {links.map((s, i) => (
            <li key={i} class={s.weight > 0 ? "bad" : "neutral"}>
              {symbolWords(s)}
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">No link was found suspicious.</p>
      )}
      <details class="raw">
        <summary>Technical details (raw symbols)</summary>
        <p class="muted">
          Score {scan.score != null ? scan.score.toFixed(2) : "–"} (the sum of the weights; higher is more likely spam) · classifier verdict{" "}
          {scan.verdict || "–"}
        </p>
        <div class="table-wrap">
          <table id="symbols">
            <thead>
              <tr>
                <th scope="col">Symbol</th>
                <th scope="col">Weight</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {symbols.map((s, i) => (
                <tr key={i}>
                  <td>
                    <code>{s.name}</code>
                  </td>
                  <td class="num">{s.weight != null ? s.weight.toFixed(2) : ""}</td>
                  <td>{s.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

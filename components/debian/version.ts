// Debian version order, as dpkg --compare-versions has it (deb-version(7)): epoch, then the
// upstream version, then the revision; in each, runs of non-digits compare by character with
// letters before other characters and `~` before everything (even the end), runs of digits
// numerically.

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/** A character's rank in a non-digit run; the end of a part ranks as 0, `~` below it. */
function rank(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  if (c === "~") return -1;
  return c.charCodeAt(0) + 256;
}

function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ra = rank(a[i]);
      const rb = rank(b[j]);
      if (ra !== rb) return ra - rb;
      i++;
      j++;
    }
    while (a[i] === "0") i++;
    while (b[j] === "0") j++;
    let firstDiff = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

function parts(v: string): [number, string, string] {
  const colon = v.indexOf(":");
  const epoch = colon > 0 ? Number(v.slice(0, colon)) : 0;
  const rest = colon > 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf("-");
  return dash > 0 ? [epoch, rest.slice(0, dash), rest.slice(dash + 1)] : [epoch, rest, ""];
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareVersions(a: string, b: string): number {
  const [ea, ua, ra] = parts(a);
  const [eb, ub, rb] = parts(b);
  if (ea !== eb) return ea - eb;
  return comparePart(ua, ub) || comparePart(ra, rb);
}

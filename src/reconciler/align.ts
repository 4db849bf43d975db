// Aligns a chain's live rules with its desired rules by key, keeping as many live rules as possible
// in order (a longest common subsequence), so unchanged rules keep their handles and counters.

/** Above this many cells the exact LCS table is too big; a greedy in-order match is used instead. */
const MAX_LCS_CELLS = 4_000_000;

/** Pairs [liveIndex, desiredIndex] of equal keys, increasing in both. `null` keys never match. */
export function align(live: readonly (string | null)[], desired: readonly (string | null)[]): Array<[number, number]> {
  let start = 0;
  while (start < live.length && start < desired.length && live[start] !== null && live[start] === desired[start]) start++;
  let endL = live.length;
  let endD = desired.length;
  while (endL > start && endD > start && live[endL - 1] !== null && live[endL - 1] === desired[endD - 1]) {
    endL--;
    endD--;
  }
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k < start; k++) pairs.push([k, k]);
  const midL = live.slice(start, endL);
  const midD = desired.slice(start, endD);
  const mid = midL.length * midD.length <= MAX_LCS_CELLS ? lcs(midL, midD) : greedy(midL, midD);
  for (const [a, b] of mid) pairs.push([a + start, b + start]);
  for (let k = 0; k < live.length - endL; k++) pairs.push([endL + k, endD + k]);
  return pairs;
}

function lcs(a: readonly (string | null)[], b: readonly (string | null)[]): Array<[number, number]> {
  const n = a.length;
  const m = b.length;
  // len[i][j] = LCS length of a[i..] and b[j..], in one flat typed array.
  const len = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number): number => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[at(i, j)] = a[i] !== null && a[i] === b[j] ? len[at(i + 1, j + 1)]! + 1 : Math.max(len[at(i + 1, j)]!, len[at(i, j + 1)]!);
    }
  }
  const pairs: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] !== null && a[i] === b[j]) pairs.push([i++, j++]);
    else if (len[at(i + 1, j)]! >= len[at(i, j + 1)]!) i++;
    else j++;
  }
  return pairs;
}

/** For each desired key in order, the next unused live occurrence after the last match. */
function greedy(a: readonly (string | null)[], b: readonly (string | null)[]): Array<[number, number]> {
  const positions = new Map<string, number[]>();
  a.forEach((k, i) => {
    if (k === null) return;
    const list = positions.get(k);
    if (list) list.push(i);
    else positions.set(k, [i]);
  });
  const cursor = new Map<string, number>();
  const pairs: Array<[number, number]> = [];
  let last = -1;
  b.forEach((k, j) => {
    if (k === null) return;
    const list = positions.get(k);
    if (!list) return;
    let c = cursor.get(k) ?? 0;
    while (c < list.length && list[c]! <= last) c++;
    cursor.set(k, c);
    if (c < list.length) {
      last = list[c]!;
      pairs.push([last, j]);
      cursor.set(k, c + 1);
    }
  });
  return pairs;
}

import { parseMediaType } from '../io/media-type.js';
import { NotAcceptable } from '../util/errors.js';

export { type MediaType, parseMediaType } from '../io/media-type.js';

/** One range of an Accept header with its quality. */
export interface AcceptRange {
  readonly type: string;
  readonly q: number;
  /** Position in the header, to break ties in the client's order. */
  readonly order: number;
}

/** Parses an Accept header; ranges with unparsable q count as q=1, malformed ranges are skipped. */
export function parseAccept(header: string): AcceptRange[] {
  const ranges: AcceptRange[] = [];
  let order = 0;
  for (const part of header.split(',')) {
    if (!part.trim()) continue;
    const { type, params } = parseMediaType(part);
    if (!type.includes('/')) continue;
    const qText = params.get('q');
    const q = qText === undefined ? 1 : Number(qText);
    ranges.push({ type, q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 1, order: order++ });
  }
  return ranges;
}

/**
 * True when an Accept header means "anything": missing, empty, or only `*` wildcards with q > 0.
 * `*\/*;q=0` refuses everything, so it is not "anything" (negotiation then answers 406).
 */
export function acceptsAnything(accept: string | undefined): boolean {
  if (accept === undefined || accept === '*/*') return true;
  // One range without wildcards or parameters (`text/csv`, what clients send): no need to parse it.
  // It means "anything" only when it is no media range at all (empty, or no `/`), as parsing finds.
  if (!/[*,;]/.test(accept)) return !accept.includes('/');
  const ranges = parseAccept(accept);
  return ranges.length === 0 || ranges.every((r) => (r.type === '*/*' || r.type === '*') && r.q > 0);
}

function specificity(range: string, type: string): number {
  if (range === type) return 3;
  if (range.endsWith('/*') && type.startsWith(range.slice(0, -1))) return 2;
  if (range === '*/*') return 1;
  return 0;
}

/**
 * Chooses the media type to answer with: the offer with the highest q (the most specific matching
 * range decides an offer's q, as RFC 9110 says); ties go to the client's order, then to `offers` order.
 * Throws 406 naming the offers when nothing is acceptable.
 * @example negotiate('text/csv;q=0.5, application/json', ['application/json', 'text/csv']) === 'application/json'
 */
export function negotiate(accept: string, offers: readonly string[]): string {
  if (offers.includes(accept)) return accept;
  const ranges = parseAccept(accept);
  let best: { offer: string; q: number; order: number } | undefined;
  for (const offer of offers) {
    let match: AcceptRange | undefined;
    let matchSpecificity = 0;
    for (const range of ranges) {
      const s = specificity(range.type, offer);
      if (s > matchSpecificity) {
        match = range;
        matchSpecificity = s;
      }
    }
    if (!match || match.q <= 0) continue;
    if (!best || match.q > best.q || (match.q === best.q && match.order < best.order)) {
      best = { offer, q: match.q, order: match.order };
    }
  }
  if (!best) {
    throw new NotAcceptable(`cannot answer with Accept: ${accept}; this model answers ${offers.join(', ')}`);
  }
  return best.offer;
}

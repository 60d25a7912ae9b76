/**
 * The one media-type parser: Content-Type headers and Accept ranges when serving, channel ContentTypes
 * when training, record formats in local batch transform.
 */

/** A parsed media type: `text/csv;label_size=1;charset=utf-8` -> type `text/csv`, params. */
export interface MediaType {
  /** Lower-case `type/subtype`, no parameters. */
  readonly type: string;
  /** Parameter names lower-case, values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

const NO_PARAMS: ReadonlyMap<string, string> = new Map();

/**
 * Parses a Content-Type (or one Accept range, or a channel's ContentType) into its type and parameters.
 * @example parseMediaType('Text/CSV; label_size=1').type === 'text/csv'
 */
export function parseMediaType(header: string): MediaType {
  const semi = header.indexOf(';');
  if (semi < 0) return { type: header.trim().toLowerCase(), params: NO_PARAMS };
  const params = new Map<string, string>();
  for (const part of header.slice(semi + 1).split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    params.set(part.slice(0, eq).trim().toLowerCase(), value);
  }
  return { type: header.slice(0, semi).trim().toLowerCase(), params };
}

// Internal: assembles the handshake's `client` document from what the runtime
// reports and fits it into the handshake specification's 512 bytes. Separate
// from client_metadata.ts so tests can feed it any runtime description.
import { type Document, encode } from "../bson/mod.ts";

/** The handshake specification's limit on the whole `client` document, in BSON bytes. */
export const MAX_CLIENT_METADATA_BYTES = 512;

/** What the runtime says about itself. */
export interface RuntimeInfo {
  osType: string;
  osName?: string;
  architecture?: string;
  platform: string;
}

/**
 * The `client` document for `appName` (already validated) and `info`. When it
 * is over 512 bytes of BSON, the specification's order applies: drop `env`
 * fields but its name (this driver sends no `env`), then the `os` fields but
 * `type`, then `env` itself, then shorten `platform`.
 */
export function fitClientMetadata(
  appName: string | undefined,
  info: RuntimeInfo,
  driver: { name: string; version: string },
): Document {
  const build = (os: Document, platform: string): Document => {
    const doc: Document = {};
    if (appName !== undefined) doc.application = { name: appName };
    doc.driver = { name: driver.name, version: driver.version };
    doc.os = os;
    if (platform !== "") doc.platform = platform;
    return doc;
  };
  const os: Document = { type: info.osType };
  if (info.osName !== undefined) os.name = info.osName;
  if (info.architecture !== undefined) os.architecture = info.architecture;
  let doc = build(os, info.platform);
  if (encode(doc).length <= MAX_CLIENT_METADATA_BYTES) return doc;
  const osType = { type: info.osType };
  doc = build(osType, info.platform);
  const size = encode(doc).length;
  if (size <= MAX_CLIENT_METADATA_BYTES) return doc;
  // Cut exactly the excess (in UTF-8 bytes), never splitting a character.
  const bytes = new TextEncoder().encode(info.platform);
  let keep = Math.max(0, bytes.length - (size - MAX_CLIENT_METADATA_BYTES));
  while (keep > 0 && (bytes[keep] & 0xc0) === 0x80) keep--;
  return build(osType, new TextDecoder().decode(bytes.subarray(0, keep)));
}

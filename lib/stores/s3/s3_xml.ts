/**
 * The few parts of S3's XML answers tinybackup reads: listings, upload ids,
 * ETags and errors. S3's answers are flat and regular, so elements are
 * found by name rather than by a full XML parser. Pure.
 */

/** The text of each `<tag>...</tag>` in `xml`, entities decoded. */
export function elements(xml: string, tag: string): string[] {
  const found: string[] = [];
  const pattern = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, "g");
  for (const match of xml.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** The decoded text of the first `<tag>` in `xml`, or undefined. */
export function text(xml: string, tag: string): string | undefined {
  const first = elements(xml, tag)[0];
  return first === undefined ? undefined : decodeEntities(first);
}

export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    switch (entity) {
      case "amp":
        return "&";
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    return String.fromCodePoint(
      entity.startsWith("#x") ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)),
    );
  });
}

export interface ListedObject {
  key: string;
  size: number;
  /** As the server quotes it: for an object put whole, its MD5 in hex. */
  etag: string;
  /** Seconds since the epoch. */
  lastModified: number;
}

/** One page of a ListObjectsV2 answer. */
export function parseListPage(xml: string): { objects: ListedObject[]; next?: string } {
  const objects = elements(xml, "Contents").map((entry) => ({
    key: text(entry, "Key") ?? "",
    size: Number(text(entry, "Size") ?? 0),
    etag: text(entry, "ETag") ?? "",
    lastModified: Date.parse(text(entry, "LastModified") ?? "") / 1000,
  }));
  if (text(xml, "IsTruncated") !== "true") return { objects };
  const next = text(xml, "NextContinuationToken");
  // Going on without a token would list the first page again, forever.
  if (next === undefined) {
    throw new Error("S3 listed a truncated page without a continuation token");
  }
  return { objects, next };
}

export interface ListedUpload {
  key: string;
  uploadId: string;
  /** Seconds since the epoch. */
  initiated: number;
}

/** One page of a ListMultipartUploads answer. */
export function parseUploadsPage(
  xml: string,
): { uploads: ListedUpload[]; next?: { keyMarker: string; uploadIdMarker: string } } {
  const uploads = elements(xml, "Upload").map((entry) => ({
    key: text(entry, "Key") ?? "",
    uploadId: text(entry, "UploadId") ?? "",
    initiated: Date.parse(text(entry, "Initiated") ?? "") / 1000,
  }));
  if (text(xml, "IsTruncated") !== "true") return { uploads };
  const keyMarker = text(xml, "NextKeyMarker");
  if (keyMarker === undefined || keyMarker === "") {
    throw new Error("S3 listed a truncated page of uploads without a next marker");
  }
  return { uploads, next: { keyMarker, uploadIdMarker: text(xml, "NextUploadIdMarker") ?? "" } };
}

/** The body of a CompleteMultipartUpload request. */
export function completeBody(etags: readonly string[]): string {
  const parts = etags.map((etag, i) =>
    `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`
  );
  return `<CompleteMultipartUpload>${parts.join("")}</CompleteMultipartUpload>`;
}

function escapeXml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

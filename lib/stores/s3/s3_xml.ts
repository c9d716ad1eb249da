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
  /** Seconds since the epoch. */
  lastModified: number;
}

/** One page of a ListObjectsV2 answer. */
export function parseListPage(xml: string): { objects: ListedObject[]; next?: string } {
  const objects = elements(xml, "Contents").map((entry) => ({
    key: text(entry, "Key") ?? "",
    size: Number(text(entry, "Size") ?? 0),
    lastModified: Date.parse(text(entry, "LastModified") ?? "") / 1000,
  }));
  const truncated = text(xml, "IsTruncated") === "true";
  const next = text(xml, "NextContinuationToken");
  return { objects, ...(truncated && next !== undefined ? { next } : {}) };
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
  return {
    uploads,
    next: {
      keyMarker: text(xml, "NextKeyMarker") ?? "",
      uploadIdMarker: text(xml, "NextUploadIdMarker") ?? "",
    },
  };
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

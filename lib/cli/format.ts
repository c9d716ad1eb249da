/** How backups look in human and JSON output. */
import type { Backup } from "../backup/catalog.ts";
import { sourceFileOf } from "../backup/metadata.ts";

/** 1536 becomes "1.5 KiB". */
export function humanSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A backup as `list --json` and `--json` describe it. */
export function backupJson(backup: Backup) {
  const m = backup.metadata;
  return {
    path: backup.path,
    name: m.name,
    generation: m.generation,
    time: m.time,
    size: m.size,
    storedSize: m.storedSize,
    // Sealed in an encrypted backup's metadata: only the key holder may learn it.
    sha256: m.sha256 ?? null,
    compression: m.compression,
    encrypted: m.encryption !== undefined,
    source: sourceFileOf(m.source) ??
      (m.source.kind === "folder" || m.source.kind === "sqlite" ? m.source.path : "-"),
    sourceKind: m.source.kind,
    ...(m.source.kind === "command" ? { command: m.source.command } : {}),
    ...("host" in m.source && m.source.host ? { host: m.source.host } : {}),
    changedWhileRead: m.changedWhileRead,
    ...(m.madeOn === undefined ? {} : { madeOn: m.madeOn }),
  };
}

/** A backup as one line of `list`: time, size, compression, path. */
export function backupLine(backup: Backup): string {
  const m = backup.metadata;
  const time = m.time.replace(/\.\d{3}Z$/, "Z");
  const flag = m.changedWhileRead ? "  (changed while read)" : "";
  return `${time}  ${humanSize(m.size).padStart(10)}  ${
    m.compression.padEnd(4)
  }  ${backup.path}${flag}`;
}

/** A moment as local `YYYY-MM-DD HH:MM`, for people reading schedules. */
export function localTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${
    two(date.getHours())
  }:${two(date.getMinutes())}`;
}

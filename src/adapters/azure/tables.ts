/**
 * What every Table storage repository here shares: key encoding, compare-and-set on ETags, and
 * telling "not found", "already exists" and "changed since you read it" apart from real faults.
 *
 * Keys (https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#characters-disallowed-in-key-fields):
 * PartitionKey and RowKey may not contain / \ # ? or control characters, and are at most 1 KiB.
 * `tableKey` maps any string to a safe key that keeps the order of plain ASCII letters and digits
 * (so ranges over ids and zero-padded numbers still work) and decodes back with `fromTableKey`.
 */
import { isRestError } from '@azure/core-rest-pipeline';
import type { TableClient, TableEntity, TableEntityResult } from '@azure/data-tables';

/** A safe PartitionKey / RowKey for any string (reversible; ASCII letters, digits and - _ . ! * ( ) ' unchanged). */
export function tableKey(value: string): string {
  // encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) as they are; "~" is encoded first so
  // that "~" can then stand for "%" (which Table storage allows but some proxies mangle in URLs).
  return encodeURIComponent(value).replace(/~/g, '%7E').replace(/%/g, '~');
}

export function fromTableKey(key: string): string {
  return decodeURIComponent(key.replace(/~/g, '%'));
}

/** A number as a fixed-width key that sorts like the number (0 ≤ n < 10^16). */
export function numberKey(n: number, width = 16): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`numberKey: ${n}`);
  return String(n).padStart(width, '0');
}

export function statusOf(error: unknown): number | undefined {
  // isRestError, not instanceof: the bundle (scripts/bundle.mjs) leaves the Storage SDKs outside,
  // so their RestError class can be another copy than the one bundled here.
  return isRestError(error) ? error.statusCode : undefined;
}

export const isNotFound = (e: unknown): boolean => statusOf(e) === 404;
export const isConflict = (e: unknown): boolean => statusOf(e) === 409;
export const isPreconditionFailed = (e: unknown): boolean => statusOf(e) === 412;

/** The entity, or null when there is none. */
export async function getOrNull<T extends object>(
  table: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<TableEntityResult<T> | null> {
  try {
    return await table.getEntity<T>(partitionKey, rowKey);
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

/** Inserts when absent; false when an entity with these keys already exists. */
export async function insertIfAbsent<T extends object>(table: TableClient, entity: TableEntity<T>): Promise<boolean> {
  try {
    await table.createEntity(entity);
    return true;
  } catch (e) {
    if (isConflict(e)) return false;
    throw e;
  }
}

/**
 * Replaces the entity only if it still has `etag` (compare-and-set); false when someone changed
 * or deleted it since it was read.
 */
export async function replaceIfMatch<T extends object>(table: TableClient, entity: TableEntity<T>, etag: string): Promise<boolean> {
  try {
    await table.updateEntity(entity, 'Replace', { etag });
    return true;
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e)) return false;
    throw e;
  }
}

/** Deletes only if it still has `etag`; false when it changed or is gone. */
export async function deleteIfMatch(table: TableClient, partitionKey: string, rowKey: string, etag: string): Promise<boolean> {
  try {
    await table.deleteEntity(partitionKey, rowKey, { etag });
    return true;
  } catch (e) {
    if (isPreconditionFailed(e) || isNotFound(e)) return false;
    throw e;
  }
}

/** Every entity of a query, in key order (the SDK pages through continuation tokens). */
export async function listAll<T extends object>(
  table: TableClient,
  filter: string | undefined,
  select?: string[],
): Promise<TableEntityResult<T>[]> {
  const out: TableEntityResult<T>[] = [];
  for await (const entity of table.listEntities<T>({ queryOptions: { filter: filter || undefined, select } })) out.push(entity);
  return out;
}

/**
 * Table storage properties are at most 64 KiB (32 K UTF-16 characters) for a string; a record's
 * JSON is split over `json0`, `json1`, ... so records with long lists still fit (an entity is at
 * most 1 MiB in all).
 */
const CHUNK = 30_000;

export function jsonProperties(value: unknown): Record<string, string | number> {
  const text = JSON.stringify(value);
  const out: Record<string, string | number> = { jsonParts: Math.max(1, Math.ceil(text.length / CHUNK)) };
  for (let i = 0, part = 0; i < text.length || part === 0; i += CHUNK, part++) out[`json${part}`] = text.slice(i, i + CHUNK);
  return out;
}

export function fromJsonProperties<T>(entity: Record<string, unknown>): T {
  const parts = Number(entity['jsonParts'] ?? 1);
  let text = '';
  for (let part = 0; part < parts; part++) text += String(entity[`json${part}`] ?? '');
  return JSON.parse(text) as T;
}
